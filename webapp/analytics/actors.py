"""Analytics housekeeping from the scheduler tick, at most once per MAINTAIN_EVERY_SECONDS across
all workers: the event log's monthly partitions (created ahead, dropped past retention) and the
count of contacts added per day."""

from __future__ import annotations

from webapp.analytics import service as analytics
from webapp.analytics.service import partitions
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis

MAINTAIN_EVERY_SECONDS = 300
MAINTAIN_KEY = "mailroom:analytics:maintained"


async def maintain_if_due() -> None:
    """From the scheduler tick."""
    if await get_redis().set(MAINTAIN_KEY, "1", nx=True, ex=MAINTAIN_EVERY_SECONDS):
        async with get_sessionmaker()() as session, session.begin():
            await partitions.maintain(session)
            await analytics.recount_audience(session)
