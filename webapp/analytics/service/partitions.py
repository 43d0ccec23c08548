"""Retention of the raw events by partition: the scheduler keeps MONTHS_AHEAD months of empty
partitions ready and drops each month whose last moment is older than ANALYTICS_DATA_RETENTION_DAYS.
The rollups are separate tables and stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics.queries import partitions
from webapp.core.config import get_settings

MONTHS_AHEAD = 2


def months_from(first: date, count: int) -> list[date]:
    months = [partitions.month_start(first)]
    while len(months) < count:
        months.append(partitions.next_month(months[-1]))
    return months


async def maintain(session: AsyncSession, now: datetime | None = None) -> list[str]:
    """Create the partitions of this month and the next MONTHS_AHEAD, drop those past retention;
    the names dropped."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=get_settings().events.retention_days)
    existing = await partitions.monthly_partitions(session)
    wanted = months_from(now.date(), MONTHS_AHEAD + 1)
    if missing := [month for month in wanted if month not in existing]:
        await partitions.create(session, missing)
    expired = [
        name
        for month, name in sorted(existing.items())
        if datetime.combine(partitions.next_month(month), time(), UTC) <= cutoff
    ]
    if expired:
        await partitions.drop(session, expired)
    await partitions.delete_old_outliers(session, cutoff)
    return expired
