"""Automations and their versions: storing, reading, listing (newest first, keyset), and the
checks that a flow's references exist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import Automation, AutomationStatus, AutomationVersion
from webapp.campaigns.models import Campaign
from webapp.core.cursors import decode_cursor
from webapp.core.queries import NEWEST_FIRST, newest_first
from webapp.lists.models import EmailList, ListType
from webapp.templates.models import EmailTemplate
from webapp.webhooks.models import WebhookEndpoint

AUTOMATION_KEY = NEWEST_FIRST  # created_at, id


def is_automation_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *AUTOMATION_KEY) is not None


@dataclass(frozen=True)
class AutomationPage:
    automations: list[Automation]
    next_cursor: str | None


async def add(session: AsyncSession, values: dict[str, Any], steps: list[dict[str, Any]]) -> Automation:
    automation = Automation(**values)
    session.add(automation)
    await session.flush()
    session.add(AutomationVersion(automation_id=automation.id, number=1, steps=steps))
    await session.flush()
    return automation


async def get(session: AsyncSession, automation_id: int, *, for_update: bool = False) -> Automation | None:
    query = select(Automation).where(Automation.id == automation_id)
    if for_update:  # publishing and status changes of one automation happen one at a time
        query = query.with_for_update()
    return await session.scalar(query)


async def draft_of(session: AsyncSession, automation_id: int) -> AutomationVersion | None:
    return await session.scalar(
        select(AutomationVersion).where(
            AutomationVersion.automation_id == automation_id, AutomationVersion.published_at.is_(None)
        )
    )


async def version(session: AsyncSession, version_id: int) -> AutomationVersion | None:
    return await session.get(AutomationVersion, version_id)


async def versions(session: AsyncSession, version_ids: Sequence[int]) -> dict[int, AutomationVersion]:
    found = await session.scalars(select(AutomationVersion).where(AutomationVersion.id.in_(version_ids)))
    return {v.id: v for v in found}


async def drafts(session: AsyncSession, automation_ids: Sequence[int]) -> dict[int, AutomationVersion]:
    found = await session.scalars(
        select(AutomationVersion).where(
            AutomationVersion.automation_id.in_(automation_ids), AutomationVersion.published_at.is_(None)
        )
    )
    return {v.automation_id: v for v in found}


async def add_draft(session: AsyncSession, automation_id: int, steps: list[dict[str, Any]]) -> AutomationVersion:
    number = await session.scalar(
        select(func.coalesce(func.max(AutomationVersion.number), 0) + 1).where(
            AutomationVersion.automation_id == automation_id
        )
    )
    draft = AutomationVersion(automation_id=automation_id, number=number, steps=steps)
    session.add(draft)
    await session.flush()
    return draft


async def older_versions(session: AsyncSession, automation_id: int, version_id: int) -> list[AutomationVersion]:
    """The automation's other published versions (those enrolments may still be on)."""
    found = await session.scalars(
        select(AutomationVersion).where(
            AutomationVersion.automation_id == automation_id,
            AutomationVersion.id != version_id,
            AutomationVersion.published_at.is_not(None),
        )
    )
    return list(found)


async def find(session: AsyncSession, *, limit: int, cursor: str | None) -> AutomationPage:
    """Newest first: (created_at, id) descending, read from the index of that shape."""
    rows, next_cursor = await newest_first(
        session, select(Automation), Automation.created_at, Automation.id, limit=limit, cursor=cursor
    )
    return AutomationPage(rows, next_cursor)


async def existing_templates(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    return set(await session.scalars(select(EmailTemplate.id).where(EmailTemplate.id.in_(ids))))


async def static_lists(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Those of `ids` that are static lists (a step adds to or removes from member rows)."""
    query = select(EmailList.id).where(EmailList.id.in_(ids), EmailList.list_type == ListType.STATIC.value)
    return set(await session.scalars(query))


async def existing_lists(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    return set(await session.scalars(select(EmailList.id).where(EmailList.id.in_(ids))))


async def segments(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Those of `ids` that are segments (dynamic or segmented lists: their members follow rules)."""
    query = select(EmailList.id).where(EmailList.id.in_(ids), EmailList.list_type != ListType.STATIC.value)
    return set(await session.scalars(query))


async def existing_campaigns(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    return set(await session.scalars(select(Campaign.id).where(Campaign.id.in_(ids))))


async def existing_endpoints(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    return set(await session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.id.in_(ids))))


async def using_list(session: AsyncSession, list_id: int) -> list[Automation]:
    """Automations not archived whose trigger is this list or segment, or whose current flow adds
    contacts to it or takes them off it; by name."""
    current_steps = (
        select(AutomationVersion.steps).where(AutomationVersion.id == Automation.current_version_id).scalar_subquery()
    )
    query = (
        select(Automation)
        .where(
            Automation.status != AutomationStatus.ARCHIVED.value,
            (Automation.trigger["list_id"].astext == str(list_id))
            | (Automation.trigger["segment_id"].astext == str(list_id))
            | current_steps.op("@>")(func.jsonb_build_array(func.jsonb_build_object("list_id", list_id))),
        )
        .order_by(func.lower(Automation.name), Automation.id)
    )
    return list((await session.scalars(query)).all())
