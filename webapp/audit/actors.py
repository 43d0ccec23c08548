"""Forgetting audit events older than a year, at most once a day across all workers (from the
scheduler tick)."""

from __future__ import annotations

from datetime import UTC, datetime

from webapp.audit import service as audit
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis

PRUNED_KEY = "mailroom:audit:pruned"
DAY_SECONDS = 86_400


async def prune_if_due() -> None:
    if await get_redis().set(PRUNED_KEY, "1", nx=True, ex=DAY_SECONDS):
        async with get_sessionmaker()() as session, session.begin():
            await audit.prune(session, datetime.now(UTC))
