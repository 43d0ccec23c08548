"""The nightly recompute: the scheduler tick starts it once per UTC day across all workers (a Redis
key per day), on a queue of its own with a time limit a whole recompute fits in. It is safe to run
twice: it computes every score from scratch."""

from __future__ import annotations

from datetime import UTC, datetime

import dramatiq

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.scoring import service as scoring

QUEUE = "scoring"
TIME_LIMIT_MS = 30 * 60_000
DONE_KEY = "mailroom:scoring:recomputed:{day}"
KEEP_KEY_SECONDS = 2 * 86400


@dramatiq.actor(queue_name=QUEUE, max_retries=2, time_limit=TIME_LIMIT_MS)
async def recompute_scores() -> None:
    async with get_sessionmaker()() as session, session.begin():
        await scoring.recompute_all(session)


async def recompute_if_due() -> bool:
    """From the scheduler tick: start today's recompute unless some worker did; whether it started it."""
    day = datetime.now(UTC).date().isoformat()
    if await get_redis().set(DONE_KEY.format(day=day), "1", nx=True, ex=KEEP_KEY_SECONDS):
        recompute_scores.send()
        return True
    return False
