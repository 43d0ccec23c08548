"""The webhook sender, on a queue of its own so a slow receiver never holds up sending campaigns.
The scheduler tick sends `deliver_webhooks` while deliveries are due; running it twice at once is
safe (claims skip each other's rows)."""

from __future__ import annotations

import dramatiq

from webapp.core.db import get_sessionmaker
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.webhooks.service import sending

QUEUE = "webhooks"
BATCHES_PER_RUN = 20  # then the next tick carries on, so one run never outlasts its time limit
TIME_LIMIT_MS = 10 * 60_000


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=TIME_LIMIT_MS)
async def deliver_webhooks() -> None:
    for _ in range(BATCHES_PER_RUN):
        if await sending.deliver_due() < sending.BATCH_SIZE:
            return


async def start_if_due() -> None:
    """From the scheduler tick."""
    async with get_sessionmaker()() as session:
        if await sending.any_due(session):
            deliver_webhooks.send()
