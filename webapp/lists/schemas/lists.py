"""A list as staff and programs send it (one schema for the list form, the segment builder and the
API) and as the API shows it.

What a list's type allows is a rule between fields (`type_rules`): a new list's type comes with the
input, an existing list's from the database, so the update service applies it with the stored type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType, convert, field

from webapp.core.schemas import Rule, Schema, Values, row_id, tag_list, text, text_fields
from webapp.lists.models import EmailList, ListType
from webapp.lists.schemas.rules import parse_rules

NAME_MAX = 200
DESCRIPTION_MAX = 2000
CONSENT_TEXT_MAX = 2000
CHOOSE_PARENT = "Choose the list this segment is a subset of."
NEEDS_RULES = (
    'A dynamic list needs rules: without them it would match every contact (send {"operator": "AND", '
    '"conditions": []} if that is what you mean).'
)
ENTER_NAME = "Enter a name for the list."


def _segment_rules(raw: Any, label: str) -> Any:
    """Rules are stored as sent once the parser accepts them; its errors name their path from
    `rules` (e.g. `rules.conditions[1].value`), so they reach the caller as they are."""
    if raw is not None:
        parse_rules(raw)
    return raw


SegmentRules = Annotated[
    dict[str, Any],
    Meta(
        description='Seed 003 CustomerSegment.rules: {"operator": "AND"|"OR", "conditions": [{"field", "op", '
        '"value"} or a nested group]}. Fields and operators are listed in the README; an unknown one is a 422 '
        "naming its path, e.g. `rules.conditions[1].field`."
    ),
]


class ListUpdate(Schema, kw_only=True):
    """Changes to a list; the list type cannot change once created. Unknown fields are rejected (422)."""

    name: Annotated[str | UnsetType, Meta(title="Name"), text(NAME_MAX, blank=ENTER_NAME)] = UNSET
    description: Annotated[str | UnsetType | None, Meta(title="Description"), text(DESCRIPTION_MAX, multiline=True)] = (
        UNSET
    )
    tags: Annotated[list[str] | UnsetType | None, Meta(title="Tags"), tag_list()] = UNSET
    is_active: Annotated[bool | UnsetType, Meta(title="Active")] = UNSET
    list_type: Annotated[
        ListType | UnsetType, Meta(title="List type", description="Fixed once the list is created.")
    ] = UNSET
    # Sent and shown as "rules": the attribute is named otherwise because `rules` is Schema's cross-field hook.
    segment_rules: Annotated[
        SegmentRules | UnsetType | None, Meta(title="Rules"), Rule(_segment_rules, converts=True)
    ] = field(default=UNSET, name="rules")
    parent_list_id: Annotated[int | UnsetType | None, Meta(title="Parent list"), row_id(CHOOSE_PARENT)] = UNSET
    is_public: Annotated[bool | UnsetType, Meta(title="Public")] = UNSET
    double_opt_in: Annotated[bool | UnsetType, Meta(title="Double opt-in")] = UNSET
    consent_text: Annotated[str | UnsetType, Meta(title="Consent text"), text(CONSENT_TEXT_MAX, multiline=True)] = UNSET


class ListCreate(ListUpdate, kw_only=True):
    """A new list. Static lists hold members; dynamic lists match `rules` against every contact at send
    time; segmented lists match `rules` against the members of the static list `parent_list_id`.
    A public static list has a hosted sign-up page at /subscribe/{id} (double opt-in unless turned off)."""

    name: Annotated[str, Meta(title="Name"), text(NAME_MAX, blank=ENTER_NAME)]

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        list_type = values.get("list_type", ListType.STATIC.value)
        errors = type_rules(list_type, values)
        if list_type == ListType.DYNAMIC.value and values.get("rules") is None:
            errors["rules"] = NEEDS_RULES
        return errors


# The text fields' limits, name -> maximum length: forms show them as maxlength.
MAX_LENGTHS = {name: max_length for name, (_, max_length) in text_fields(ListCreate).items()}


def type_rules(list_type: str, values: Values) -> dict[str, str]:
    """What a list of this type may hold: only segments have rules and a parent list (a dynamic list
    no parent), and only static lists take sign-ups, since a segment's members come from its rules."""
    errors: dict[str, str] = {}
    if list_type == ListType.STATIC.value:
        for name in ("rules", "parent_list_id"):
            if values.get(name) is not None:
                errors[name] = "Only dynamic and segmented lists have rules and a parent list."
    elif list_type == ListType.DYNAMIC.value and values.get("parent_list_id") is not None:
        errors["parent_list_id"] = "A dynamic list matches all contacts; make it segmented to use a parent list."
    if values.get("is_public") and list_type != ListType.STATIC.value:
        errors["is_public"] = (
            f"Only static lists can be public: the members of {list_type} lists come from their rules."
        )
    return errors


PASTE_SOMETHING = "Paste at least one email address."


def _pasted(raw: Any, label: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(PASTE_SOMETHING)
    return raw


class PastedAddresses(Schema, kw_only=True):
    """Addresses to add to a static list, one per line or separated by commas or semicolons; the
    service reports the ones that are not addresses, line by line."""

    addresses: Annotated[str, Meta(title="Email addresses"), Rule(_pasted, missing=PASTE_SOMETHING, converts=True)]


class ListOut(Struct):
    id: int
    name: str
    description: str
    list_type: ListType
    contact_count: int
    tags: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    is_active: bool
    rules: dict[str, Any] | None = None
    parent_list_id: int | None = None
    counted_at: datetime | None = None
    is_public: bool = False
    double_opt_in: bool = True
    consent_text: str = ""


class SegmentCountOut(Struct):
    list_id: int
    contact_count: int
    counted_at: datetime | None


class ListPageOut(Struct):
    items: list[ListOut]
    next_cursor: str | None


def list_out(email_list: EmailList) -> ListOut:
    return convert(email_list, ListOut, from_attributes=True)
