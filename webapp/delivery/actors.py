"""Dramatiq actors. Messages carry ids only; every actor is safe to run twice.

HTTP handlers change campaign state, then start a campaign they set sending (announce_change); the
scheduler tick (webapp/worker.py) notices campaigns that are due, or sending without a live worker,
and starts them. So a send survives a restart of every process: the state is in PostgreSQL, and
the tick picks it up again.
"""

from __future__ import annotations

import time

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests.service import sending as abtests
from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.campaigns.service import sending
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery import automation_mail, progress, smtp_config
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.delivery.pipeline import HEARTBEAT_SECONDS, Next, heartbeat_key, keep_alive, run_batch
from webapp.delivery.watch import watch

SEND_SLICE_SECONDS = 30.0
# A failed message is retried by Dramatiq up to MAX_RETRIES times, waiting from one second up to a
# minute in between; a message that runs longer than its time limit is stopped (milliseconds).
MAX_RETRIES = 20
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000
SEND_TIME_LIMIT_MS = 15 * 60_000
START_TIME_LIMIT_MS = 30 * 60_000  # materialising a million recipients takes a while
POLLER_GRACE_SECONDS = 5  # the poller's key (and the heartbeat while waiting) outlive its delay by this much


def poller_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:poller"


@dramatiq.actor(
    queue_name="send",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=SEND_TIME_LIMIT_MS,
)
async def send_campaign(campaign_id: int, poll: bool = False) -> None:
    """Send batches for a while, then hand over to a fresh message so other work can interleave.
    poll: this is the one delayed message that looks again once nothing was claimable."""
    redis = get_redis()
    if poll:
        await redis.delete(poller_key(campaign_id))  # from now on another chain may schedule the next look
    until = time.monotonic() + SEND_SLICE_SECONDS
    while time.monotonic() < until:
        result = await run_batch(campaign_id)
        if watch.stopping:  # this worker shuts down: another one (or this one, restarted) carries on
            send_campaign.send(campaign_id)
            return
        if result.next is Next.STOP:
            return
        if result.next is Next.WAIT:
            # Only one waiting chain per campaign polls again; the others end here.
            keep = int(result.delay_seconds) + POLLER_GRACE_SECONDS
            if await redis.set(poller_key(campaign_id), "1", nx=True, ex=keep):
                await redis.set(heartbeat_key(campaign_id), "1", ex=max(keep, HEARTBEAT_SECONDS))
                send_campaign.send_with_options(
                    args=(campaign_id,), kwargs={"poll": True}, delay=int(result.delay_seconds * 1000)
                )
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
    redis = get_redis()
    # materialising may take minutes
    async with keep_alive(heartbeat_key(campaign_id)), get_sessionmaker()() as session:
        campaign = await sending.begin(session, campaign_id)
        if campaign is not None:
            if campaign.status == CampaignStatus.SENDING.value:
                await abtests.start(session, campaign_id)  # with the deliveries, in their transaction
            await session.commit()
            await progress.publish(redis, campaign_id, progress.status_event(campaign))
            await progress.publish(redis, campaign_id, progress.progress_event(campaign))
    if campaign is None:  # paused or cancelled before it started: a resume starts it at once
        await redis.delete(heartbeat_key(campaign_id))
        return
    server = get_settings().server
    for _ in range(max(1, server.worker_threads * server.worker_processes)):  # every thread of every process
        send_campaign.send(campaign_id)


async def start_due_campaigns() -> None:
    """Start campaigns whose time has come, and restart sending campaigns no worker is serving
    (after a crash or a restart of every process), but not those whose A/B test waits for its
    winner; end what cancelled campaigns left unsent. Run by the scheduler tick."""
    async with get_sessionmaker()() as session:
        await sending.start_due(session)
        await sending.end_cancelled(session, get_settings().delivery.lease_seconds)
        await session.commit()
        sending_now = set(await sending.sending_ids(session)) - await abtests.waiting_for_winner(session)
    for campaign_id in sending_now:
        await start_unless_served(campaign_id)


async def announce_change(session: AsyncSession, campaign: Campaign) -> None:
    """Staff or the API changed a campaign's status: commit, tell live pages, and start it at once
    if it now sends."""
    await progress.announce(session, campaign)
    if campaign.status == CampaignStatus.SENDING.value:
        await start_unless_served(campaign.id)


async def start_unless_served(campaign_id: int) -> None:
    """Start a sending campaign no worker serves: staff or the API just set it sending (so it starts
    now, not at the next tick, up to MAILROOM_SCHEDULER_INTERVAL later), its scheduled time came, or
    its workers died. The heartbeat key taken here keeps the ticks meanwhile from starting it again
    (one start fans out a sending chain per worker thread); should no worker take the job, the key
    lapses and a tick starts it."""
    if await get_redis().set(heartbeat_key(campaign_id), "1", nx=True, ex=HEARTBEAT_SECONDS):
        start_campaign.send(campaign_id)


@dramatiq.actor(
    queue_name="send",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=SEND_TIME_LIMIT_MS,
)
async def send_automation_emails() -> None:
    """Send automation emails batch after batch while any is due, for a while, then hand over to a
    fresh message; once none is due, end (the scheduler tick starts a chain again when needed)."""
    until = time.monotonic() + SEND_SLICE_SECONDS
    while time.monotonic() < until:
        if watch.stopping or not await automation_mail.run_batch():
            await get_redis().delete(automation_mail.HEARTBEAT_KEY)
            return
    send_automation_emails.send()


async def start_automation_emails() -> None:
    """Start sending automation emails when some wait and no worker is at it (run by the tick)."""
    if not await get_redis().exists(automation_mail.HEARTBEAT_KEY) and await automation_mail.unfinished():
        await get_redis().set(automation_mail.HEARTBEAT_KEY, "1", ex=HEARTBEAT_SECONDS)
        send_automation_emails.send()


async def resume_when_servers_answer() -> None:
    """Campaigns paused because no SMTP server could be reached resume once one answers again
    (sending.MAX_AUTO_RESUMES times at most). Run by the scheduler tick."""
    async with get_sessionmaker()() as session:
        waiting = await sending.waiting_for_servers(session)
    if not waiting or not await smtp_config.any_server_answers():
        return
    async with get_sessionmaker()() as session:
        for campaign_id in waiting:
            if (campaign := await sending.resume_for_servers(session, campaign_id)) is not None:
                await session.commit()
                await progress.publish(get_redis(), campaign_id, progress.status_event(campaign))


def stop_sending() -> None:
    """The worker process is shutting down (called from its main thread): every batch gives back
    what it has not handed to a server, and no new batch starts."""
    loop_thread = get_event_loop_thread()
    if loop_thread is not None:
        loop_thread.loop.call_soon_threadsafe(watch.stop_everything)
