"""The webhook sender, on a queue of its own. The scheduler tick starts it while deliveries are
due, one at a time across all workers (a Redis key held while it runs): however slow the receivers,
webhooks hold at most one worker thread, and the campaigns keep the others. Running it twice is
safe anyway (claims skip each other's rows)."""

from __future__ import annotations

import dramatiq

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.webhooks.service import sending

QUEUE = "webhooks"
BATCHES_PER_RUN = 20  # then the next tick carries on, so one run never outlasts its time limit
TIME_LIMIT_MS = 10 * 60_000
RUNNING_KEY = "mailroom:webhooks:sender"  # expires with the time limit, should a worker die holding it
PRUNED_KEY = "mailroom:webhooks:pruned"  # the log is pruned at most once an hour


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=TIME_LIMIT_MS)
async def deliver_webhooks() -> None:
    await send_due_batches()


async def send_due_batches() -> None:
    """Send what is due, a batch at a time, then let the next tick start a sender again."""
    try:
        if await get_redis().set(PRUNED_KEY, "1", nx=True, ex=3600):
            await sending.prune_log()
        for _ in range(BATCHES_PER_RUN):
            if await sending.deliver_due() < sending.BATCH_SIZE:
                return
    finally:
        await get_redis().delete(RUNNING_KEY)


async def start_if_due() -> None:
    """From the scheduler tick."""
    async with get_sessionmaker()() as session:
        due = await sending.any_due(session)
    if due and await get_redis().set(RUNNING_KEY, "1", nx=True, px=TIME_LIMIT_MS):
        deliver_webhooks.send()
