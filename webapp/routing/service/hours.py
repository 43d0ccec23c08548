"""Each transport's hourly figures (transport_hours), for the transports page: copied from the
health counts in Redis by the scheduler tick. A copy writes an hour's figures as they stand, so
copying again (another worker, the next tick) never counts anything twice; Redis keeps an hour's
counts for a day, the table for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.redis import get_redis
from webapp.routing import queries
from webapp.routing.models import TransportHour
from webapp.routing.service.health import LONG_WINDOW, MICROSECONDS, recent_hours

HOURS_COPIED = LONG_WINDOW  # every hour Redis still keeps: a day without a tick loses nothing


async def keep_hours(session: AsyncSession) -> None:
    rows = [
        {
            "transport": f.transport,
            "hour": datetime.fromtimestamp(f.hour * 3600, UTC),
            "sent": f.counts.get("sent", 0),
            "deferred": f.counts.get("deferred", 0),
            "errors": f.counts.get("error", 0),
            "bounced": f.counts.get("bounced", 0),
            "complained": f.counts.get("complained", 0),
            "latency_ms": f.counts.get("latency_us", 0) * 1000 // MICROSECONDS,
            "timed": f.counts.get("timed", 0),
        }
        for f in await recent_hours(get_redis(), HOURS_COPIED)
    ]
    await queries.save_hours(session, rows)


async def recent(session: AsyncSession, days: int) -> list[TransportHour]:
    """The last `days` days of every transport's hours, oldest first."""
    return await queries.hours_since(session, datetime.now(UTC) - timedelta(days=days))
