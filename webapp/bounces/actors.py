"""Polling the bounce mailbox, on a queue of its own. The scheduler tick starts a poll when the
configured interval has passed, one at a time across all workers (a Redis key held while it runs,
expiring with the time limit should a worker die holding it). A poll may run twice: recording a
report again changes nothing."""

from __future__ import annotations

import dramatiq

from webapp.bounces.service import mailbox, polling
from webapp.campaigns.service import campaigns
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.delivery.progress import announce

QUEUE = "bounces"
TIME_LIMIT_MS = int(polling.TIME_LIMIT_SECONDS * 1000) + 5 * 60_000  # the last batch may start at the limit
RUNNING_KEY = "mailroom:bounces:polling"
DUE_KEY = "mailroom:bounces:polled"  # set by each poll's start, expires after the interval


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=TIME_LIMIT_MS)
async def poll_bounce_mailbox() -> None:
    await poll_and_announce()


async def poll_and_announce() -> None:
    """Poll once, then let the next due tick start a poll again."""
    try:
        result = await polling.poll()
        async with get_sessionmaker()() as session:
            for campaign_id in result.paused:  # complaints paused it: tell its live pages, as a staff pause does
                await announce(session, await campaigns.get_campaign(session, campaign_id))
    finally:
        await get_redis().delete(RUNNING_KEY)


async def start_if_due() -> None:
    """From the scheduler tick."""
    async with get_sessionmaker()() as session:
        settings = await mailbox.load(session)
    if not settings.polled:
        return
    redis = get_redis()
    if not await redis.set(RUNNING_KEY, "1", nx=True, px=TIME_LIMIT_MS):
        return
    if await redis.set(DUE_KEY, "1", nx=True, ex=settings.poll_minutes * 60):
        poll_bounce_mailbox.send()
    else:
        await redis.delete(RUNNING_KEY)
