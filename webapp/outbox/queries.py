"""The dev outbox: pages of captured mail, newest first (all of it, or what a search matches), and
clearing it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Row, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Link
from webapp.core.db import rows_changed
from webapp.outbox.models import OutboxMessage

# What the outbox list shows of a message: id, mail_from, rcpt_to, subject, received_at.
Summary = Row[int, str, str, str, datetime]


async def newest(session: AsyncSession, before: int | None, limit: int, search: str = "") -> Sequence[Summary]:
    """Up to `limit` messages older than id `before` (keyset on id), without their raw bytes; with
    `search`, only those whose recipients or subject contain it (any case, % and _ as themselves).
    The outbox holds dev-mode mail until someone clears it, so a scan is fine: no index for this."""
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.mail_from,
            OutboxMessage.rcpt_to,
            OutboxMessage.subject,
            OutboxMessage.received_at,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    if search:
        query = query.where(
            or_(
                OutboxMessage.rcpt_to.icontains(search, autoescape=True),
                OutboxMessage.subject.icontains(search, autoescape=True),
            )
        )
    return (await session.execute(query)).all()


async def delete_all(session: AsyncSession) -> int:
    return rows_changed(await session.execute(delete(OutboxMessage)))


async def link_urls(session: AsyncSession, link_ids: Collection[int]) -> dict[int, str]:
    """Where campaigns' tracked links lead, by link id (the table click tracking redirects from)."""
    rows = await session.execute(select(Link.id, Link.url).where(Link.id.in_(link_ids)))
    return dict(rows.all())
