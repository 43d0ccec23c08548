"""Request and response bodies of the JSON API, as msgspec Structs, so /api/docs shows real shapes.

Request Structs check JSON types (a wrong type is a 400 naming the field). The rules themselves
(address syntax, lengths, unknown fields, ...) belong to the services, which get the JSON object
exactly as it was sent: see `sent_object`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from msgspec import UNSET, Meta, Struct, UnsetType, convert

from webapp.contacts.models import ContactStatus
from webapp.lists.models import ListType

MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints; a larger number is a bad request, not a database error
ContactId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="Contact id.")]
ListId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="List id.")]
Limit = Annotated[int, Parameter(ge=1, le=500, description="Items per page, 1 to 500.")]

CustomValue = str | int | float | bool | None
CustomFields = Annotated[
    dict[str, CustomValue],
    Meta(
        description="Name: value pairs; names use letters, digits and underscores, values are text, "
        "numbers, true/false or null."
    ),
]


# ---- contacts ------------------------------------------------------------------------------


class ContactUpdate(Struct, kw_only=True):
    """A partial update: only the fields sent change; tags and custom_fields are replaced whole.
    Null or "" clears a text field. Unknown fields are rejected (422)."""

    email: str | UnsetType = UNSET
    first_name: str | UnsetType | None = UNSET
    last_name: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    company: str | UnsetType | None = UNSET
    job_title: str | UnsetType | None = UNSET
    location: str | UnsetType | None = UNSET
    tags: list[str] | UnsetType | None = UNSET
    custom_fields: CustomFields | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    status: ContactStatus | UnsetType = UNSET


class ContactCreate(ContactUpdate, kw_only=True):
    """A new contact: only email is required. Unknown fields are rejected (422)."""

    email: str


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
    date_added: datetime
    last_updated: datetime


class ContactPageOut(Struct):
    items: list[ContactOut]
    next_cursor: str | None


# ---- lists ---------------------------------------------------------------------------------

SegmentRules = Annotated[
    dict[str, Any],
    Meta(
        description='Seed 003 CustomerSegment.rules: {"operator": "AND"|"OR", "conditions": [{"field", "op", '
        '"value"} or a nested group]}. Fields and operators are listed in the README; an unknown one is a 422 '
        "naming its path, e.g. `rules.conditions[1].field`."
    ),
]


class ListUpdate(Struct, kw_only=True):
    """Changes to a list; the list type cannot change once created. Unknown fields are rejected (422)."""

    name: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    tags: list[str] | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    rules: SegmentRules | UnsetType | None = UNSET
    parent_list_id: int | UnsetType | None = UNSET
    is_public: bool | UnsetType = UNSET
    double_opt_in: bool | UnsetType = UNSET
    consent_text: str | UnsetType = UNSET


class ListCreate(ListUpdate, kw_only=True):
    """A new list. Static lists hold members; dynamic lists match `rules` against every contact at send
    time; segmented lists match `rules` against the members of the static list `parent_list_id`.
    A public static list has a hosted sign-up page at /subscribe/{id} (double opt-in unless turned off)."""

    name: str
    list_type: ListType | UnsetType = UNSET


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


# ---- errors --------------------------------------------------------------------------------


class FieldError(Struct):
    field: str
    message: str


class ErrorOut(Struct, kw_only=True):
    """Every API error. existing_id comes with 409 for a duplicate email."""

    status_code: int
    detail: str
    errors: list[FieldError] | UnsetType = UNSET
    existing_id: int | UnsetType = UNSET


ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, a wrong type or a bad parameter; errors name the field.",
    401: "No API key, or the key is not valid.",
    403: "The key's role cannot do this (viewer keys only read).",
    404: "No such resource.",
    409: "Clashes with existing data, e.g. a duplicate email.",
    422: "Breaks a rule; errors name each field and the problem.",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """The documented error responses of a handler: 400, 401 and 403 always, plus `codes`."""
    return {
        code: ResponseSpec(ErrorOut, description=ERROR_DESCRIPTIONS[code], generate_examples=False)
        for code in sorted({400, 401, 403, *codes})
    }


# ---- conversions ---------------------------------------------------------------------------


def contact_out(contact: Any) -> ContactOut:
    return convert(contact, ContactOut, from_attributes=True)


def list_out(email_list: Any) -> ListOut:
    return convert(email_list, ListOut, from_attributes=True)


async def sent_object(request: Request) -> dict[str, Any]:
    """The request's JSON object as sent. Litestar has already checked it against the request Struct
    (and cached it); the services get every key, so they can name unknown fields instead of the
    Struct silently dropping them."""
    return await request.json()
