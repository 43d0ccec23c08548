"""The public archive's campaigns: marketing campaigns sent with the archive setting on, newest
first by when they finished sending, read from the partial index of that shape."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import IN_ARCHIVE, Campaign
from webapp.core.cursors import Part, decode_cursor, encode_cursor

KEY = (Part.TIME, Part.ID)  # completed_at, id


@dataclass(frozen=True)
class ArchivedPage:
    campaigns: list[Campaign]
    next_cursor: str | None


async def archived(session: AsyncSession, *, limit: int, cursor: str | None = None) -> ArchivedPage:
    query = select(Campaign).where(IN_ARCHIVE)
    if after := decode_cursor(cursor, *KEY):
        query = query.where(tuple_(Campaign.completed_at, Campaign.id) < tuple_(*after))
    rows = list(
        await session.scalars(query.order_by(Campaign.completed_at.desc(), Campaign.id.desc()).limit(limit + 1))
    )
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return ArchivedPage(
        rows, encode_cursor(last.completed_at, last.id) if more and last and last.completed_at else None
    )


async def archived_campaign(session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.scalar(select(Campaign).where(IN_ARCHIVE, Campaign.id == campaign_id))
