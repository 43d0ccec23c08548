"""Lists as the API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType, convert

from webapp.lists.models import EmailList, ListType

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


def list_out(email_list: EmailList) -> ListOut:
    return convert(email_list, ListOut, from_attributes=True)
