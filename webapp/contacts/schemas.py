"""The contacts feature's inputs and outputs: a contact (one schema for the form and the API), the
contacts table's search, filters, sort and page, and the contact as the API shows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType, convert

from webapp.contacts.models import Contact, ContactStatus
from webapp.core.schemas import NUL_FREE, Rule, Schema, email_address, tag_list, text, text_fields
from webapp.core.validation import CUSTOM_FIELD_NAME, LANGUAGE_CODE_TYPED, language_code

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

STATUSES = [s.value for s in ContactStatus]
MAX_CUSTOM_FIELDS = 100
MAX_CUSTOM_VALUE_LENGTH = 2000
MAX_CUSTOM_FIELD_NAME = 64  # CUSTOM_FIELD_NAME's limit

# Completed with the reserved names below, once the profile's fields are known.
CUSTOM_FIELDS_LIMITS: dict[str, Any] = {
    "max_properties": MAX_CUSTOM_FIELDS,
    "property_names": {"pattern": CUSTOM_FIELD_NAME.pattern},
    "additional_properties": {"max_length": MAX_CUSTOM_VALUE_LENGTH, "pattern": NUL_FREE},
}
CustomValue = str | int | float | bool | None
CustomFields = Annotated[
    dict[str, CustomValue],
    Meta(
        title="Custom fields",
        description="Name: value pairs; names use letters, digits and underscores, values are text, "
        "numbers, true/false or null.",
    ),
]


def _name_problem(name: str) -> str:
    """Why a custom field's name is refused: it is a template variable ({{ name }}), so it is plain ASCII."""
    if len(name) > MAX_CUSTOM_FIELD_NAME:
        return f"'{name[:20]}…' is too long for a field name: at most {MAX_CUSTOM_FIELD_NAME} characters."
    return (
        f"'{name}' is not a valid field name: use the letters a-z and A-Z without accents, digits and "
        "underscores, not starting with a digit."
    )


def _custom_fields(raw: Mapping[str, Any] | None, label: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if len(raw) > MAX_CUSTOM_FIELDS:
        raise ValueError(f"At most {MAX_CUSTOM_FIELDS} custom fields.")
    by_folded: dict[str, str] = {}
    for name, value in raw.items():
        if not CUSTOM_FIELD_NAME.match(name):
            raise ValueError(_name_problem(name))
        if name.lower() in RESERVED_NAMES:
            raise ValueError(f"'{name}' is a standard contact field; set it directly.")
        if (other := by_folded.setdefault(name.lower(), name)) != name:
            # Template variables tell them apart; people reading the contact would not.
            raise ValueError(f"'{other}' and '{name}' differ only in capitals: keep one of them.")
        if isinstance(value, str) and len(value) > MAX_CUSTOM_VALUE_LENGTH:
            raise ValueError(f"'{name}' must be at most {MAX_CUSTOM_VALUE_LENGTH} characters.")
        if isinstance(value, str) and "\x00" in value:  # JSONB cannot hold NUL
            raise ValueError(f"'{name}' contains a character that is not allowed (NUL).")
    return dict(raw)


class ContactUpdate(Schema, kw_only=True):
    """A partial update: only the fields sent change; tags and custom_fields are replaced whole.
    Null or "" clears a text field. Unknown fields are rejected (422)."""

    email: Annotated[str | UnsetType, Meta(title="Email"), email_address()] = UNSET
    first_name: Annotated[str | UnsetType | None, Meta(title="First name"), text(200)] = UNSET
    last_name: Annotated[str | UnsetType | None, Meta(title="Last name"), text(200)] = UNSET
    phone: Annotated[str | UnsetType | None, Meta(title="Phone"), text(50)] = UNSET
    company: Annotated[str | UnsetType | None, Meta(title="Company"), text(200)] = UNSET
    job_title: Annotated[str | UnsetType | None, Meta(title="Job title"), text(200)] = UNSET
    location: Annotated[str | UnsetType | None, Meta(title="Location"), text(200)] = UNSET
    tags: Annotated[list[str] | UnsetType | None, Meta(title="Tags"), tag_list()] = UNSET
    custom_fields: Annotated[CustomFields | UnsetType | None, Rule(_custom_fields, limits=CUSTOM_FIELDS_LIMITS)] = UNSET
    is_active: Annotated[bool | UnsetType, Meta(title="Active")] = UNSET
    status: Annotated[ContactStatus | UnsetType, Meta(title="Status")] = UNSET
    language: Annotated[
        str | UnsetType | None,
        Meta(
            title="Language",
            description="A language code (en, es-mx): the language of the pages and emails Mailroom writes "
            'to the contact, where it has one (else English). Null or "" for none.',
        ),
        Rule(language_code, limits={"pattern": LANGUAGE_CODE_TYPED}),
    ] = UNSET


class ContactCreate(ContactUpdate, kw_only=True):
    """A new contact: only email is required. Unknown fields are rejected (422)."""

    email: Annotated[str, Meta(title="Email"), email_address()]


# The profile's text fields, name -> (label, maximum length): the form and the importer use them.
TEXT_FIELDS = {name: limits for name, limits in text_fields(ContactUpdate).items() if name != "email"}
RESERVED_NAMES = {"id", "email", "tags", "status", "is_active", "language", "date_added", "last_updated", *TEXT_FIELDS}
CUSTOM_FIELDS_LIMITS["property_names"]["not"] = {"enum": sorted(RESERVED_NAMES)}


class EmailStatsOut(Struct):
    """What a contact did with the messages sent to it (seed 000): messages sent, opened and clicked
    (each message counted once), and the last open and click."""

    emails_sent: int
    emails_opened: int
    emails_clicked: int
    last_opened: datetime | None
    last_clicked: datetime | None


class ContactOut(Struct):
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str
    company: str
    job_title: str
    location: str
    tags: list[str]
    custom_fields: CustomFields
    is_active: bool
    status: ContactStatus
    language: str
    date_added: datetime
    last_updated: datetime
    email_stats: EmailStatsOut


class ContactPageOut(Struct):
    items: list[ContactOut]
    next_cursor: str | None


def contact_out(contact: Contact) -> ContactOut:
    """The contact's own columns, its email_stats included (kept on the row, so a page of contacts
    needs no other query)."""
    fields = {name: getattr(contact, name) for name in ContactOut.__struct_fields__ if name != "email_stats"}
    stats = {name: getattr(contact, name) for name in EmailStatsOut.__struct_fields__}
    return convert({**fields, "email_stats": stats}, ContactOut)


# ---- the contacts table ----------------------------------------------------------------------

SORTS: dict[str, tuple[str, bool]] = {
    # name: (label, descending)
    "newest": ("Newest first", True),
    "oldest": ("Oldest first", False),
    "email": ("Email A–Z", False),
    "name": ("Name A–Z", False),
    "company": ("Company A–Z", False),
    "updated": ("Recently updated", True),
}


@dataclass
class ContactFilter:
    """Which contacts: every given filter must hold (queries/filters.py turns it into SQL)."""

    q: str = ""
    tag: str = ""
    tags: tuple[str, ...] = ()  # contacts having all of these
    company: str = ""
    status: str = ""
    is_active: bool | None = None
    list_id: int | None = None
    # A predicate over contacts built elsewhere, e.g. a segment's rules (lists/queries/conditions.py).
    condition: ColumnElement[bool] | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.q
            or self.tag
            or self.tags
            or self.company
            or self.status
            or self.list_id is not None
            or self.is_active is not None
            or self.condition is not None
        )


def _clean(raw: Any, max_length: int) -> str:
    return str(raw or "").replace("\x00", "").strip()[:max_length]


@dataclass(frozen=True)
class TableParams:
    """Search, filters, sort and page of the contacts table. Unknown or malformed values fall back
    to the default, so a hand-edited URL shows a page rather than an error."""

    q: str = ""
    tag: str = ""
    company: str = ""
    status: str = ""
    active: str = ""
    sort: str = "newest"
    cursor: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> TableParams:
        status, active, sort = (str(params.get(name) or "") for name in ("status", "active", "sort"))
        return cls(
            q=_clean(params.get("q"), 200),
            tag=_clean(params.get("tag"), 50),
            company=_clean(params.get("company"), 200),
            status=status if status in STATUSES else "",
            active=active if active in {"yes", "no"} else "",
            sort=sort if sort in SORTS else "newest",
            cursor=_clean(params.get("cursor"), 1000),
        )

    @staticmethod
    def unknown_filters(params: Mapping[str, Any]) -> dict[str, str]:
        """A message per filter whose value the page never offers. A file of everyone would pass for
        the filtered one, so an export refuses these where the page would ignore them."""
        errors = {}
        status, active = (str(params.get(name) or "") for name in ("status", "active"))
        if status and status not in STATUSES:
            errors["status"] = f"'{status[:40]}' is not a status: choose one of {', '.join(STATUSES)}."
        if active and active not in {"yes", "no"}:
            errors["active"] = f"'{active[:40]}' is not a choice for active: choose yes or no."
        return errors

    @property
    def filters(self) -> ContactFilter:
        is_active = {"yes": True, "no": False}.get(self.active)
        return ContactFilter(q=self.q, tag=self.tag, company=self.company, status=self.status, is_active=is_active)

    @property
    def query(self) -> dict[str, str]:
        """Search, filters and sort for links (the page is added per link)."""
        return {
            "q": self.q,
            "tag": self.tag,
            "company": self.company,
            "status": self.status,
            "active": self.active,
            "sort": "" if self.sort == "newest" else self.sort,
        }


# ---- the contact form: what it shows, and what it sends as a contact ---------------------------

FORM_TEXT_FIELDS = ("email", *TEXT_FIELDS, "language")
FormFields = dict[str, list[str]]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _first(form: FormFields, name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def values_from_contact(contact: Contact) -> dict[str, Any]:
    """What the form shows for a saved contact."""
    values: dict[str, Any] = {name: getattr(contact, name) for name in FORM_TEXT_FIELDS}
    values.update(
        tags=", ".join(contact.tags),
        is_active=contact.is_active,
        status=contact.status,
        custom_rows=[(key, _shown(value)) for key, value in contact.custom_fields.items()],
    )
    return values


def values_from_form(form: FormFields) -> dict[str, Any]:
    """What was typed, exactly, for showing the form again. Custom fields arrive as parallel
    cf_key/cf_value fields (blanks included, so they line up); empty rows are dropped."""
    values: dict[str, Any] = {name: _first(form, name) for name in FORM_TEXT_FIELDS}
    rows = zip(form.get("cf_key", []), form.get("cf_value", []), strict=False)  # a short list drops the rest
    values.update(
        tags=", ".join(form.get("tags", [])),
        is_active="is_active" in form,
        status=_first(form, "status"),
        custom_rows=[(key, value) for key, value in rows if key.strip() or value.strip()],
    )
    return values


def contact_data(
    values: dict[str, Any], saved_custom: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """A contact (ContactCreate's shape) from form values, plus the problems only the form can have
    (a value without a name, a name twice). A saved number or true/false sent back unchanged keeps
    its type."""
    saved = saved_custom or {}
    custom: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for raw_key, value in values["custom_rows"]:
        key = raw_key.strip()
        if not key:
            errors["custom_fields"] = "Give every value a field name, or clear the row."
        elif key in custom:
            errors["custom_fields"] = f"The field '{key}' is there twice."
        else:
            unchanged = key in saved and _shown(saved[key]) == value
            custom[key] = saved[key] if unchanged else value
    data = {name: values[name] for name in FORM_TEXT_FIELDS}
    data.update(
        tags=values["tags"].split(","),
        is_active=values["is_active"],
        status=values["status"],
        custom_fields=custom,
    )
    return data, errors
