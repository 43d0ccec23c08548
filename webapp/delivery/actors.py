"""Dramatiq actors. Messages carry ids only; every actor is safe to run twice.

HTTP handlers only change campaign state; the scheduler tick (webapp/worker.py) notices campaigns
that are due or sending without a live worker and starts them. So a send survives a restart of
every process: the state is in PostgreSQL, and the tick picks it up again.
"""

from __future__ import annotations

import time

import dramatiq

from webapp.campaigns.service import sending
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery import progress
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.delivery.pipeline import Next, heartbeat_key, run_batch

SEND_SLICE_SECONDS = 30.0
# A failed message is retried by Dramatiq up to MAX_RETRIES times, waiting from one second up to a
# minute in between; a message that runs longer than its time limit is stopped (milliseconds).
MAX_RETRIES = 20
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000
SEND_TIME_LIMIT_MS = 15 * 60_000
START_TIME_LIMIT_MS = 30 * 60_000  # materialising a million recipients takes a while
POLLER_GRACE_SECONDS = 5  # the poller's key outlives its delay by this much


@dramatiq.actor(
    queue_name="send",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=SEND_TIME_LIMIT_MS,
)
async def send_campaign(campaign_id: int) -> None:
    """Send batches for a while, then hand over to a fresh message so other work can interleave."""
    until = time.monotonic() + SEND_SLICE_SECONDS
    while time.monotonic() < until:
        result = await run_batch(campaign_id)
        if result.next is Next.STOP:
            return
        if result.next is Next.WAIT:
            # Only one waiting chain per campaign polls again; the others end here.
            poller = f"campaign:{campaign_id}:poller"
            if await get_redis().set(poller, "1", nx=True, ex=int(result.delay_seconds) + POLLER_GRACE_SECONDS):
                send_campaign.send_with_options(args=(campaign_id,), delay=int(result.delay_seconds * 1000))
            return
    send_campaign.send(campaign_id)


@dramatiq.actor(
    queue_name="send",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=START_TIME_LIMIT_MS,
)
async def start_campaign(campaign_id: int) -> None:
    """Create the delivery rows (once) and fan out sending chains."""
    settings = get_settings()
    redis = get_redis()
    await redis.set(heartbeat_key(campaign_id), "1", ex=settings.delivery.lease_seconds)
    async with get_sessionmaker()() as session:
        campaign = await sending.begin(session, campaign_id)
        if campaign is None:
            return
        await session.commit()
        await progress.publish(redis, campaign_id, progress.status_event(campaign))
        await progress.publish(redis, campaign_id, progress.progress_event(campaign))
    for _ in range(max(1, settings.server.worker_threads)):
        send_campaign.send(campaign_id)


async def start_due_campaigns() -> None:
    """Start campaigns whose time has come, and restart sending campaigns no worker is serving
    (after a crash or a restart of every process). Run by the scheduler tick."""
    redis = get_redis()
    async with get_sessionmaker()() as session:
        due = await sending.start_due(session)
        await session.commit()
        sending_now = await sending.sending_ids(session)
    for campaign_id in sending_now:
        if campaign_id in due or not await redis.exists(heartbeat_key(campaign_id)):
            start_campaign.send(campaign_id)
