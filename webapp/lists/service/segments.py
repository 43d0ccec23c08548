"""Segments are lists: "dynamic" lists match their rules against every contact, "segmented" lists
against the members of one static parent list (seed 000 "List Types"). This module holds the checks
of a segment that need the database, its count and its preview."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.config import get_settings
from webapp.core.errors import ValidationFailed
from webapp.core.queries import within_time_limit
from webapp.core.schemas import Values
from webapp.lists.models import EmailList, ListType
from webapp.lists.queries import choices
from webapp.lists.queries import lists as list_queries
from webapp.lists.queries import segments as segment_queries
from webapp.lists.queries.conditions import list_condition
from webapp.lists.schemas.lists import CHOOSE_PARENT, type_rules
from webapp.lists.schemas.rules import EMPTY_RULES, Group, parse_rules
from webapp.lists.service.audience import members_filter

PREVIEW_SIZE = 10
T = TypeVar("T")


def too_slow_to_count(seconds: float) -> str:
    return (
        f"Counting the contacts these rules match took longer than {seconds:g} s, the time limit. "
        "Fewer or narrower conditions count faster; a campaign to the segment still finds its contacts when it is sent."
    )


async def check_segment(session: AsyncSession, values: Values, existing: EmailList | None) -> None:
    """A list's checks beyond its schema: the type is fixed once created (and what it allows is
        checked against the stored type), a segmented list has a static parent, and rules refer only to
        static lists that exist. A new segmented list without rules gets the empty rules (all of the parent's
    members; a dynamic list must send its rules, ListCreate.rules)."""
    errors: dict[str, str] = {}
    if existing is None:
        list_type = values["list_type"]
    else:
        list_type = existing.list_type
        if values.get("list_type", list_type) != list_type:
            errors["list_type"] = "The type of a list cannot change once it is created."
        errors |= type_rules(list_type, values)
    if list_type != ListType.STATIC.value:
        if existing is None:
            values.setdefault("rules", EMPTY_RULES)
        if list_type == ListType.SEGMENTED.value:
            parent_id = values.get("parent_list_id", existing.parent_list_id if existing else None)
            errors |= await _check_parent(session, parent_id, existing)
        if "rules" in values:
            errors |= await _check_list_references(session, parse_rules(values["rules"]))
    if errors:
        raise ValidationFailed(errors)


async def _check_parent(session: AsyncSession, parent_id: int | None, existing: EmailList | None) -> dict[str, str]:
    if parent_id is None:
        return {"parent_list_id": CHOOSE_PARENT}
    parent = await session.get(EmailList, parent_id)
    if parent is None or parent.list_type != ListType.STATIC.value or (existing and parent.id == existing.id):
        return {"parent_list_id": f"List {parent_id} is not a static list."}
    if not parent.is_active and (existing is None or existing.parent_list_id != parent.id):
        return {"parent_list_id": f"List '{parent.name}' is archived: restore it to make segments of it."}
    return {}


async def _check_list_references(session: AsyncSession, group: Group, path: str = "rules") -> dict[str, str]:
    errors: dict[str, str] = {}
    for index, item in enumerate(group.conditions):
        item_path = f"{path}.conditions[{index}]"
        if isinstance(item, Group):
            errors |= await _check_list_references(session, item, item_path)
        elif item.field == "list":
            found = await list_queries.static_ids(session, item.value)
            missing = [str(x) for x in item.value if x not in found]
            if missing:
                errors[f"{item_path}.value"] = f"Not a static list: {', '.join(missing)}."
    return errors


async def count_rules(session: AsyncSession, raw_rules: Any, parent_list_id: int | None) -> int | None:
    """How many contacts unsaved rules match (the builder's live count); None past the live limit."""
    return await within_live_limit(session, segment_queries.count(session, _draft_condition(raw_rules, parent_list_id)))


async def preview_rules(session: AsyncSession, raw_rules: Any, parent_list_id: int | None) -> list[Contact] | None:
    condition = _draft_condition(raw_rules, parent_list_id)
    return await within_live_limit(session, segment_queries.first_matching(session, condition, PREVIEW_SIZE))


async def matches_page(session: AsyncSession, email_list: EmailList, cursor: str | None) -> contacts.ContactPage | None:
    """A page of a list's members; for a segment (the contacts its rules match now) None past the
    live limit."""
    page = contacts.page(session, members_filter(email_list), cursor=cursor)
    if email_list.list_type == ListType.STATIC.value:
        return await page
    return await within_live_limit(session, page)


async def within_live_limit(session: AsyncSession, work: Awaitable[T]) -> T | None:
    """What `work` (a query over what rules match) returns, or None past the limit of a count that
    someone waits for on a page."""
    return await within_time_limit(session, get_settings().segments.live_count_seconds, work)


def _draft_condition(raw_rules: Any, parent_list_id: int | None) -> ColumnElement[bool]:
    draft = EmailList(
        id=0,
        list_type=ListType.SEGMENTED.value if parent_list_id else ListType.DYNAMIC.value,
        rules=raw_rules,
        parent_list_id=parent_list_id,
    )
    return list_condition(draft, datetime.now(UTC))


async def refresh_count(session: AsyncSession, email_list: EmailList, seconds: float) -> int | None:
    """Count a segment's matches now and remember the figure on the list; None when that takes
    longer than `seconds` (the list keeps the figure and time it had)."""
    if email_list.list_type == ListType.STATIC.value:
        return email_list.contact_count
    condition = list_condition(email_list, datetime.now(UTC))
    count = await within_time_limit(session, seconds, segment_queries.count(session, condition))
    if count is None:
        return None
    email_list.contact_count = count
    email_list.counted_at = await segment_queries.database_now(session)
    await session.flush()
    await session.refresh(email_list)  # updated_at is set by the database
    return email_list.contact_count


@dataclass(frozen=True)
class BuilderChoices:
    """What the builder's pickers offer."""

    static_lists: list[EmailList]
    campaigns: list[tuple[int, str]]  # (id, name) of campaigns that were sent
    custom_keys: list[str]


async def builder_choices(session: AsyncSession) -> BuilderChoices:
    return BuilderChoices(
        await choices.static_lists(session),
        await choices.sent_campaigns(session),
        await choices.custom_field_keys(session),
    )


async def names_of(
    session: AsyncSession, list_ids: Iterable[int], campaign_ids: Iterable[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """Names of the lists and campaigns that rules refer to, for saying the rules in words."""
    return await choices.names_of(session, list_ids, campaign_ids)
