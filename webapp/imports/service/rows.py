"""Columns to contact fields: guessing the mapping from the headers (schemas.py checks a chosen one), and
turning each row into the values loaded into the staging table (or the reason it is rejected).

This runs once per row of files with a million rows, so the common case is kept cheap: addresses
that are plain ASCII dot-atoms (nearly all) are checked with the same rules email-validator applies,
with each domain validated by email-validator once and cached; anything else goes through
email-validator in full (tests/unit compare both on a corpus of tricky addresses).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _json_string  # the C encoder of one str

from email_validator import EmailNotValidError
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)
from email_validator.syntax import validate_email_domain_name

from webapp.contacts.schemas import MAX_CUSTOM_VALUE_LENGTH, RESERVED_NAMES, TEXT_FIELDS
from webapp.core.validation import LANGUAGE_CODE, MAX_TAGS, TAG_MAX_LENGTH, TOO_MANY_TAGS, normalize_email
from webapp.imports.models import ImportMode
from webapp.imports.schemas import CUSTOM, FIELDS, IGNORE, ONLY_THE_ADDRESS, REPEATABLE

# What the staging table can hold per row after the line number (see queries/load.py); a job stages
# the columns its mapping fills (RowConverter.columns), in this order.
STAGE_COLUMNS = ("email", *TEXT_FIELDS, "tags", "custom_fields", "language")
StagedRow = tuple[str, ...]  # in RowConverter.columns order
SYNONYMS: dict[str, set[str]] = {
    "email": {
        "email",
        "e mail",
        "email address",
        "e mail address",
        "mail",
        "emailaddress",
        "correo",
        "correo electronico",
        "email addr",
        "mail address",
    },
    "first_name": {"first name", "firstname", "first", "given name", "forename", "nombre"},
    "last_name": {"last name", "lastname", "surname", "family name", "last", "apellido", "apellidos"},
    "phone": {"phone", "telephone", "phone number", "mobile", "mobile phone", "cell", "tel", "telefono"},
    "company": {"company", "company name", "organisation", "organization", "employer", "empresa"},
    "job_title": {"job title", "jobtitle", "title", "position", "job", "role", "cargo", "puesto"},
    "location": {"location", "city", "address", "ciudad", "ubicacion"},
    "tags": {"tags", "tag", "labels", "label", "etiquetas"},
    "language": {"language", "lang", "locale", "idioma"},
}
FORMULA_ESCAPE = re.compile(r"^'[=+\-@]")  # our CSV export's guard against spreadsheet formulas
CUSTOM_NAME_MAX = 64  # as CUSTOM_FIELD_NAME allows
QUOTED_MAX = 20  # how much of a value too long or malformed a message quotes


def _words(header: str) -> str:
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def suggested_custom_name(header: str) -> str:
    """A valid custom field name made from a header: "Plan (2024)" -> "plan_2024"."""
    name = _words(header).replace(" ", "_")[:CUSTOM_NAME_MAX]
    if not name or not name[0].isalpha():
        name = ("field_" + name)[:CUSTOM_NAME_MAX]
    return name if name not in RESERVED_NAMES else f"{name}_1"


def guess_target(header: str, custom_keys: Sequence[str] = ()) -> str:
    by_name = {key.lower(): key for key in custom_keys}
    if header.lower().startswith(CUSTOM) and (key := by_name.get(header[len(CUSTOM) :].strip().lower())):
        return CUSTOM + key  # as our export names a field that shares a standard column's name
    words = _words(header)
    for name, synonyms in SYNONYMS.items():
        if words in synonyms or words == name.replace("_", " "):
            return name
    if (key := by_name.get(words.replace(" ", "_"))) is not None:
        return CUSTOM + key
    return IGNORE


def guess_mapping(headers: Sequence[str], custom_keys: Sequence[str] = ()) -> list[str]:
    """One target per column; a field goes to the first column that looks like it."""
    targets: list[str] = []
    for header in headers:
        target = guess_target(header, custom_keys)
        targets.append(IGNORE if target != REPEATABLE and target in targets else target)
    return targets


# ---- addresses -----------------------------------------------------------------------------


class EmailNormalizer:
    """normalize_email() with a fast path: same answers, a fraction of the time for plain addresses."""

    def __init__(self, cache_size: int = 100_000) -> None:
        self._domains: dict[str, str | None] = {}  # domain as written -> normalised, or None if invalid
        self._cache_size = cache_size

    def __call__(self, raw: str) -> str:
        """The normalised address, or ValueError with email-validator's message."""
        text = raw.strip()
        local, at, domain = text.rpartition("@")
        if at and text.isascii() and 0 < len(local) <= LOCAL_PART_MAX_LENGTH and DOT_ATOM_TEXT.match(local):
            normal_domain = self._domain(domain)
            if normal_domain is not None:
                if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
                    local = local.lower()
                address = f"{local}@{normal_domain}"
                if len(text) <= EMAIL_MAX_LENGTH and len(address) <= EMAIL_MAX_LENGTH:
                    return address
        return normalize_email(raw)

    def _domain(self, domain: str) -> str | None:
        try:
            return self._domains[domain]
        except KeyError:
            pass
        try:
            info = validate_email_domain_name(domain, test_environment=False, globally_deliverable=True)
            normal: str | None = info["domain"] if info["domain"] == info["ascii_domain"] else None
        except EmailNotValidError:
            normal = None
        if len(self._domains) >= self._cache_size:
            self._domains.clear()
        self._domains[domain] = normal
        return normal


# ---- rows ----------------------------------------------------------------------------------


class RowRejected(ValueError):
    """The row cannot be imported; the message says why."""


def _unescape(value: str) -> str:
    return value[1:] if FORMULA_ESCAPE.match(value) else value


@dataclass
class RowConverter:
    """Turns the cells of one row into a staging row (a tuple in `columns` order: the staging
    columns the mapping fills, the address first). Written for speed: a million calls per big file."""

    targets: Sequence[str]
    mode: str
    width: int  # columns in the header

    def __post_init__(self) -> None:
        only_email = self.mode in ONLY_THE_ADDRESS
        targets = list(self.targets) + [IGNORE] * max(0, self.width - len(self.targets))
        self.email_index = targets.index("email")
        self.custom = (
            []
            if only_email
            else [
                (i, t[len(CUSTOM) :], _json_string(t[len(CUSTOM) :]) + ":")
                for i, t in enumerate(targets)
                if t.startswith(CUSTOM)
            ]
        )
        self.mapped = (
            {"email"}
            if only_email
            else ({t for t in targets if t in FIELDS} | ({"custom_fields"} if self.custom else set()))
        )
        self.columns = [name for name in STAGE_COLUMNS if name in self.mapped]
        slot = {name: i for i, name in enumerate(self.columns)}
        self.text_fields = (
            []
            if only_email
            else [(i, slot[t], TEXT_FIELDS[t][0], TEXT_FIELDS[t][1]) for i, t in enumerate(targets) if t in TEXT_FIELDS]
        )
        self.tag_indexes = [] if only_email else [i for i, t in enumerate(targets) if t == "tags"]
        self.tags_slot, self.custom_slot = slot.get("tags", -1), slot.get("custom_fields", -1)
        # The file's tags are added to an existing contact's, which only the database knows
        self.merges_tags = self.mode == ImportMode.UPSERT and self.tags_slot >= 0
        self.language_index = -1 if only_email or "language" not in targets else targets.index("language")
        self.language_slot = slot.get("language", -1)
        self.normalise_email = EmailNormalizer()
        self.empty = ["{}" if column == "custom_fields" else "" for column in self.columns]

    def convert(self, cells: list[str]) -> StagedRow:
        """The staging row, or RowRejected."""
        width = self.width
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        elif len(cells) > width and any(c.strip() for c in cells[width:]):
            raise RowRejected(
                f"This row has {len(cells)} values but the file has {width} columns "
                "(a value containing the delimiter without quotes around it?)."
            )
        raw_email = cells[self.email_index].strip()
        if not raw_email:
            raise RowRejected("The email address is empty.")
        if raw_email[0] == "'":  # an address our export guarded ('=1+2@example.com) is the same address
            raw_email = _unescape(raw_email)
        try:
            email = self.normalise_email(raw_email)
        except ValueError as exc:
            raise RowRejected(str(exc)) from None
        out = self.empty.copy()
        out[0] = email
        for index, slot, label, limit in self.text_fields:
            value = cells[index].strip()
            if value:
                if value[0] == "'":
                    value = _unescape(value)
                if len(value) > limit:
                    raise RowRejected(f"{label} is longer than {limit} characters.")
                if "\x00" in value:
                    raise RowRejected(f"{label} contains a character that is not allowed (NUL).")
                out[slot] = value
        if self.tag_indexes:
            out[self.tags_slot] = self._tags(cells)
        if self.custom:
            out[self.custom_slot] = self._custom(cells)
        if self.language_index >= 0:
            out[self.language_slot] = self._language(cells[self.language_index])
        return tuple(out)

    def _tags(self, cells: list[str]) -> str:
        tags: dict[str, None] = {}
        for index in self.tag_indexes:
            value = cells[index].strip()
            if value[:1] == "'":
                value = _unescape(value)
            for raw in value.replace(";", ",").split(","):
                tag = raw.strip().lower()
                if "  " in tag or not tag.isprintable():  # as normalize_tags: whitespace runs -> one space
                    tag = " ".join(tag.replace("\x00", "").split())
                if not tag:
                    continue
                if len(tag) > TAG_MAX_LENGTH:
                    raise RowRejected(f"Tag '{tag[:QUOTED_MAX]}…' is longer than {TAG_MAX_LENGTH} characters.")
                tags[tag] = None
        if len(tags) > MAX_TAGS:
            raise RowRejected(TOO_MANY_TAGS)
        return ",".join(tags)

    def _custom(self, cells: list[str]) -> str:
        parts = []
        for index, name, key in self.custom:
            value = cells[index].strip()
            if not value:
                continue
            if value[0] == "'":
                value = _unescape(value)
            if len(value) > MAX_CUSTOM_VALUE_LENGTH:
                raise RowRejected(f"'{name}' must be at most {MAX_CUSTOM_VALUE_LENGTH} characters.")
            if "\x00" in value:
                raise RowRejected(f"'{name}' contains a character that is not allowed (NUL).")
            parts.append(key + _json_string(value))
        return "{" + ",".join(parts) + "}"

    @staticmethod
    def _language(raw: str) -> str:
        value = raw.strip()
        if not value:
            return ""
        value = value.lower().replace("_", "-")
        if not LANGUAGE_CODE.fullmatch(value):
            raise RowRejected(f"'{value[:QUOTED_MAX]}' is not a language code such as en or es-mx.")
        return value
