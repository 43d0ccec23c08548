"""The public archive's campaigns: marketing campaigns sent with the archive setting on, newest
first by when they finished sending, read from the partial index of that shape."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import IN_ARCHIVE, Campaign
from webapp.core.queries import newest_first


@dataclass(frozen=True)
class ArchivedPage:
    campaigns: list[Campaign]
    next_cursor: str | None


async def archived(session: AsyncSession, *, limit: int, cursor: str | None = None) -> ArchivedPage:
    query = select(Campaign).where(IN_ARCHIVE)
    campaigns, next_cursor = await newest_first(
        session, query, Campaign.completed_at, Campaign.id, limit=limit, cursor=cursor
    )
    return ArchivedPage(campaigns, next_cursor)


async def archived_campaign(session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.scalar(select(Campaign).where(IN_ARCHIVE, Campaign.id == campaign_id))


async def any_archived(session: AsyncSession) -> bool:
    return await session.scalar(select(Campaign.id).where(IN_ARCHIVE).limit(1)) is not None
