"""Segments are lists: "dynamic" lists match their rules against every contact, "segmented" lists
against the members of one static parent list (seed 000 "List Types"). This module holds the
rules that tie a segment's fields together, its count and its preview."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.contacts.schemas import ContactFilter
from webapp.core.errors import ValidationFailed
from webapp.core.validation import is_valid_id
from webapp.lists.models import EmailList, ListType
from webapp.lists.queries import segments as segment_queries
from webapp.lists.queries.conditions import list_condition
from webapp.lists.schemas.rules import EMPTY_RULES, Group, parse_rules

SEGMENT_FIELDS = ("rules", "parent_list_id")
PREVIEW_SIZE = 10


def validate_segment_fields(data: Mapping[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """Shape checks for rules and parent_list_id; fills values, returns errors by field path."""
    errors: dict[str, str] = {}
    if "rules" in data:
        try:
            parse_rules(data["rules"])
            values["rules"] = data["rules"]
        except ValidationFailed as exc:
            errors |= exc.errors
    if "parent_list_id" in data:
        parent = data["parent_list_id"]
        if parent is None or is_valid_id(parent):
            values["parent_list_id"] = parent
        else:
            errors["parent_list_id"] = "Choose the list this segment is a subset of."
    return errors


async def check_segment(session: AsyncSession, values: dict[str, Any], existing: EmailList | None) -> None:
    """The checks that need the database: type fixed once created, a static parent for segmented
    lists, and rules that only refer to static lists that exist."""
    list_type = existing.list_type if existing else values.setdefault("list_type", ListType.STATIC.value)
    errors: dict[str, str] = {}
    if existing and values.get("list_type", list_type) != list_type:
        errors["list_type"] = "The type of a list cannot change once it is created."
    if list_type == ListType.STATIC.value:
        for name in SEGMENT_FIELDS:
            if values.get(name) is not None:
                errors[name] = "Only dynamic and segmented lists have rules and a parent list."
    else:
        if existing is None:
            values.setdefault("rules", EMPTY_RULES)
        if list_type == ListType.DYNAMIC.value and values.get("parent_list_id") is not None:
            errors["parent_list_id"] = "A dynamic list matches all contacts; make it segmented to use a parent list."
        if list_type == ListType.SEGMENTED.value:
            parent_id = values.get("parent_list_id", existing.parent_list_id if existing else None)
            errors |= await _check_parent(session, parent_id, existing)
        if "rules" in values:
            errors |= await _check_list_references(session, parse_rules(values["rules"]))
    if errors:
        raise ValidationFailed(errors)


async def _check_parent(session: AsyncSession, parent_id: Any, existing: EmailList | None) -> dict[str, str]:
    if parent_id is None:
        return {"parent_list_id": "Choose the list this segment is a subset of."}
    parent = await session.get(EmailList, parent_id)
    if parent is None or parent.list_type != ListType.STATIC.value or (existing and parent.id == existing.id):
        return {"parent_list_id": f"List {parent_id} is not a static list."}
    return {}


async def _check_list_references(session: AsyncSession, group: Group, path: str = "rules") -> dict[str, str]:
    errors: dict[str, str] = {}
    for index, item in enumerate(group.conditions):
        item_path = f"{path}.conditions[{index}]"
        if isinstance(item, Group):
            errors |= await _check_list_references(session, item, item_path)
        elif item.field == "list":
            found = set(
                await session.scalars(
                    select(EmailList.id).where(
                        EmailList.id.in_(item.value), EmailList.list_type == ListType.STATIC.value
                    )
                )
            )
            missing = [str(x) for x in item.value if x not in found]
            if missing:
                errors[f"{item_path}.value"] = f"Not a static list: {', '.join(missing)}."
    return errors


async def count_rules(session: AsyncSession, raw_rules: Any, parent_list_id: int | None) -> int:
    """How many contacts unsaved rules match (the builder's live count)."""
    return await segment_queries.count(session, _condition(raw_rules, parent_list_id))


async def preview_rules(session: AsyncSession, raw_rules: Any, parent_list_id: int | None) -> list[Contact]:
    return await segment_queries.first_matching(session, _condition(raw_rules, parent_list_id), PREVIEW_SIZE)


def _condition(raw_rules: Any, parent_list_id: int | None):
    draft = EmailList(
        id=0,
        list_type=ListType.SEGMENTED.value if parent_list_id else ListType.DYNAMIC.value,
        rules=raw_rules,
        parent_list_id=parent_list_id,
    )
    return list_condition(draft, datetime.now(UTC))


async def refresh_count(session: AsyncSession, email_list: EmailList) -> int:
    """Count a segment's matches now and remember the figure on the list."""
    if email_list.list_type == ListType.STATIC.value:
        return email_list.contact_count
    email_list.contact_count = await segment_queries.count(session, list_condition(email_list, datetime.now(UTC)))
    email_list.counted_at = await session.scalar(select(func.now()))
    await session.flush()
    await session.refresh(email_list)  # updated_at is set by the database
    return email_list.contact_count


def members_filter(email_list: EmailList) -> ContactFilter:
    """The contacts-page filter for a list's members: its member rows, or a segment's matches now."""
    if email_list.list_type == ListType.STATIC.value:
        return ContactFilter(list_id=email_list.id)
    return ContactFilter(condition=list_condition(email_list, datetime.now(UTC)))
