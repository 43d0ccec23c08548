"""Dramatiq actors. Messages carry ids only; every actor is safe to run twice.

HTTP handlers only change campaign state; the scheduler tick (webapp/worker.py) notices campaigns
that are due or sending without a live worker and starts them. So a send survives a restart of
every process: the state is in PostgreSQL, and the tick picks it up again.
"""

from __future__ import annotations

import time

import dramatiq
from sqlalchemy import select, text

from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.campaigns.service import audience
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery import progress
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.delivery.pipeline import Next, heartbeat_key, run_batch

SEND_SLICE_SECONDS = 30.0


@dramatiq.actor(queue_name="send", max_retries=20, min_backoff=1_000, max_backoff=60_000, time_limit=15 * 60_000)
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
            if await get_redis().set(poller, "1", nx=True, ex=int(result.delay_seconds) + 5):
                send_campaign.send_with_options(args=(campaign_id,), delay=int(result.delay_seconds * 1000))
            return
    send_campaign.send(campaign_id)


@dramatiq.actor(queue_name="send", max_retries=20, min_backoff=1_000, max_backoff=60_000, time_limit=30 * 60_000)
async def start_campaign(campaign_id: int) -> None:
    """Create the delivery rows (once) and fan out sending chains."""
    settings = get_settings()
    redis = get_redis()
    await redis.set(heartbeat_key(campaign_id), "1", ex=settings.delivery.lease_seconds)
    async with get_sessionmaker()() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        if campaign is None or campaign.status != CampaignStatus.SENDING.value:
            return
        if campaign.materialised_at is None:
            campaign.total_recipients = await audience.materialise_campaign(session, campaign_id)
            campaign.materialised_at = await session.scalar(text("SELECT now()"))
            if campaign.started_at is None:
                campaign.started_at = campaign.materialised_at
        await session.commit()
        await progress.publish(redis, campaign_id, progress.status_event(campaign))
        await progress.publish(redis, campaign_id, progress.progress_event(campaign))
    for _ in range(max(1, settings.server.worker_threads)):
        send_campaign.send(campaign_id)


DUE_CAMPAIGNS = text("""
UPDATE campaigns SET status = 'sending', started_at = coalesce(started_at, now()), updated_at = now()
WHERE status = 'scheduled' AND scheduled_at <= now()
RETURNING id
""")


async def start_due_campaigns() -> None:
    """Start campaigns whose time has come, and restart sending campaigns no worker is serving
    (after a crash or a restart of every process). Run by the scheduler tick."""
    redis = get_redis()
    async with get_sessionmaker()() as session:
        due = list(await session.scalars(DUE_CAMPAIGNS))
        await session.commit()
        sending = list(
            await session.scalars(select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING.value))
        )
    for campaign_id in sending:
        if campaign_id in due or not await redis.exists(heartbeat_key(campaign_id)):
            start_campaign.send(campaign_id)
