"""Routing's part of the scheduler tick: the transports' hourly figures copied from Redis to the
database once a minute across all workers (service/hours.py; copying again is harmless)."""

from __future__ import annotations

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.routing.service import health, hours

DUE_KEY = "mailroom:routing:hours-copied"
EVERY_SECONDS = 60


async def keep_hours_if_due() -> None:
    """From the scheduler tick."""
    if not await get_redis().set(DUE_KEY, "1", nx=True, ex=EVERY_SECONDS):
        return
    async with get_sessionmaker()() as session:
        await hours.keep_hours(session)
        await session.commit()


async def write_health_counts() -> None:
    """What this worker counted of its transports' health and has not written yet (it stops)."""
    await health.write_all()
