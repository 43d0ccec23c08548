"""Field-level validators shared by every service that takes user input."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

TAG_MAX_LENGTH = 50
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,4})?")  # a whole value (fullmatch): en, es-mx
SPACES = " \t\n\r\f\v"  # trimmed from a language code: the white space JSON Schema's patterns know too
# What language_code() accepts, for /api/docs: as typed, in any case, with - or _, blank for none.
LANGUAGE_CODE_TYPED = r"^[ \t\n\r\f\v]*([A-Za-z]{2,3}([-_][A-Za-z0-9]{2,4})?)?[ \t\n\r\f\v]*$"
MAX_TAGS = 100  # on one contact, template or list: tags sort things into groups, not hold data
TOO_MANY_TAGS = f"At most {MAX_TAGS} tags: use a custom field for data that needs more."
CUSTOM_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """The IANA zones people choose from. The system's zone files also include "localtime" (whatever
    zone the server is in) and "Factory" (no zone at all), which are no choice for a schedule."""
    return frozenset(available_timezones() - {"localtime", "Factory", "posixrules"})


def is_valid_id(value: Any) -> bool:
    """False for ids no row can have (a typed URL or form value beyond bigint would make the query fail)."""
    return isinstance(value, int) and 0 < value <= MAX_ID


# The domains email_validator refuses (special-use and reserved names: .test, .onion, ...), as a pattern in any
# letter case.
NOT_SPECIAL_USE = "^(?!.*[@.](?:{})$)".format(
    "|".join(
        "".join(f"[{c}{c.upper()}]" if c.isalpha() else re.escape(c) for c in name) for name in SPECIAL_USE_DOMAIN_NAMES
    )
)


UNREADABLE = "\ufffd"  # the replacement character


def normalize_email(raw: Any) -> str:
    """Return the normalised address or raise ValueError with a message a person can act on."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("Enter an email address.")
    if UNREADABLE in raw:  # bytes that were not UTF-8, replaced when decoded: no mailbox has this name
        raise ValueError("The email address contains a character that could not be read (not UTF-8).")
    try:
        # strict: a mailbox name (before the @) of at most 64 characters (RFC 5321), as servers require.
        return validate_email(raw.strip(), check_deliverability=False, strict=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


TAG_COMMA = "A tag cannot contain a comma: send each tag as an item of its own."


def normalize_tags(raw: Any) -> list[str]:
    """Tags are trimmed, lower-cased and de-duplicated, keeping the order they were given in."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, (list, tuple)):
        raise ValueError("Tags must be a list of strings.")
    tags: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise ValueError("Tags must be a list of strings.")
        if "," in item:  # forms and imports separate tags with commas: such a tag would split at its next save
            raise ValueError(TAG_COMMA)
        tag = " ".join(item.replace("\x00", "").split()).lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX_LENGTH:
            raise ValueError(f"Tag '{tag[:20]}…' is longer than {TAG_MAX_LENGTH} characters.")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(TOO_MANY_TAGS)
    return tags


def text_field(raw: Any, label: str, max_length: int) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError(f"{label} must be text.")
    value = raw.strip()
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError(f"{label} contains a character that is not allowed (NUL).")
    if len(value) > max_length:
        raise ValueError(f"{label} must be at most {max_length} characters.")
    return value


def language_code(raw: Any, label: str) -> str:
    """A language code as people write it (ES_mx) as stored (es-mx); "" or null for none."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError(f"{label} must be text: a language code such as en or es-mx.")
    value = raw.strip(SPACES).lower().replace("_", "-")
    if value and not LANGUAGE_CODE.fullmatch(value):
        raise ValueError(f"'{value[:20]}' is not a language code such as en or es-mx.")
    return value


def bool_field(raw: Any, label: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in {"true", "on", "1", "yes"}:
        return True
    if isinstance(raw, str) and raw.lower() in {"false", "off", "0", "no", ""}:
        return False
    raise ValueError(f"{label} must be true or false.")
