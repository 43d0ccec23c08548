"""The send loop: claim a batch, render and send it over pooled SMTP, record what happened.

Runs inside Dramatiq actors (see actors.py); everything here is safe to run twice and in many
workers at once, because rows are claimed with FOR UPDATE SKIP LOCKED and outcomes only apply to
rows still claimed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from urllib.parse import urlparse

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.campaigns.service import sending
from webapp.contacts.models import Contact
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery import progress
from webapp.delivery import queries as deliveries
from webapp.delivery.campaign_message import PreparedCampaign, prepare
from webapp.delivery.mailer import Mailer, PermanentFailure, Throttled, TransientFailure
from webapp.delivery.queries import Claimed, Outcome
from webapp.delivery.smtp_config import get_mailer
from webapp.settings.service import organisation as org_settings
from webapp.suppression.service import suppression
from webapp.templates.service.rendering import RenderError

log = logging.getLogger("mailroom.delivery")

MAX_RETRY_DELAY_SECONDS = 3600  # a transient failure waits twice as long each time, up to this
# The "a worker serves this campaign" key lives at least this long, so the scheduler tick does
# not restart a campaign between two of its batches when the lease is short.
MIN_HEARTBEAT_SECONDS = 30
IN_FLIGHT_POLL_SECONDS = 1.0  # nothing claimable but rows held elsewhere: look again this soon
SALT_LENGTH = 8  # hex characters of the Message-ID salt


class Next(Enum):
    MORE = "more"  # claimed and sent a batch; go again
    WAIT = "wait"  # nothing claimable now (retries later, or rows in flight elsewhere)
    STOP = "stop"  # campaign finished, paused, cancelled or gone


@dataclass
class BatchResult:
    next: Next
    delay_seconds: float = 0.0


def heartbeat_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:alive"


def failures_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:consecutive-failures"


_prepared: dict[int, tuple[datetime, PreparedCampaign]] = {}


async def _prepared_campaign(session: AsyncSession, campaign: Campaign) -> PreparedCampaign:
    """Compile a campaign once per process (and again only if it was edited)."""
    cached = _prepared.get(campaign.id)
    if cached and cached[0] == campaign.updated_at:
        return cached[1]
    org = await org_settings.load(session)
    prepared = await prepare(session, campaign, org, get_settings().server.public_url)
    await session.commit()  # links registered while preparing
    _prepared[campaign.id] = (campaign.updated_at, prepared)
    return prepared


def _message_id_domain() -> str:
    return urlparse(get_settings().server.public_url).hostname or "mailroom.local"


def _salt() -> str:
    """Part of every Message-ID: the same for every worker of this installation, not guessable."""
    return hashlib.sha256(get_settings().secret_key().encode()).hexdigest()[:SALT_LENGTH]


def _retry_delay(attempts: int) -> int:
    doubled: int = get_settings().delivery.retry_base_seconds * 2 ** (attempts - 1)
    return min(doubled, MAX_RETRY_DELAY_SECONDS)


async def _send_one(
    mailer: Mailer, prepared: PreparedCampaign, item: Claimed, contacts: dict[int, Contact], max_attempts: int
) -> Outcome:
    contact = contacts.get(item.contact_id) if item.contact_id is not None else None
    try:
        message = prepared.render(item.id, item.message_id, item.email, contact)
    except RenderError as exc:
        return Outcome(item.id, "failed", f"Template error: {exc.message}")
    try:
        server_id = await mailer.send(prepared.from_email, item.email, message)
        return Outcome(item.id, "sent", server_id=server_id)
    except Throttled as exc:
        retry_seconds = int(exc.retry_after) + 1  # rounded up: not before the budget has room
        return Outcome(item.id, "pending", str(exc), retry_seconds=retry_seconds, throttled=True)
    except PermanentFailure as exc:
        return Outcome(item.id, "failed", str(exc), bounced=exc.recipient_refused)
    except TransientFailure as exc:
        if item.attempts >= max_attempts:
            return Outcome(item.id, "failed", f"Gave up after {item.attempts} attempts: {exc}")
        return Outcome(item.id, "pending", str(exc), retry_seconds=_retry_delay(item.attempts))


async def run_batch(campaign_id: int) -> BatchResult:
    settings = get_settings().delivery
    redis = get_redis()
    sessionmaker = get_sessionmaker()
    async with sessionmaker() as session:
        # FOR SHARE until the claim commits: a pause (which locks the row to update it) either
        # waits for this claim or is seen by it, so nothing is claimed once a pause has committed.
        campaign = await session.get(Campaign, campaign_id, with_for_update={"read": True})
        if campaign is None or campaign.status != CampaignStatus.SENDING.value:
            return BatchResult(Next.STOP)
        await redis.set(heartbeat_key(campaign_id), "1", ex=max(settings.lease_seconds, MIN_HEARTBEAT_SECONDS))
        prepared = await _prepared_campaign(session, campaign)
        claimed = await deliveries.claim(
            session,
            campaign_id,
            settings.batch_size,
            lease_seconds=settings.lease_seconds,
            salt=_salt(),
            domain=_message_id_domain(),
        )
        await session.commit()
        if not claimed:
            return await _finish_or_wait(session, campaign_id)
        contacts = await deliveries.contacts_by_id(session, [c.contact_id for c in claimed if c.contact_id is not None])

    mailer = await get_mailer()
    started = time.monotonic()
    outcomes = await asyncio.gather(
        *(_send_one(mailer, prepared, item, contacts, settings.max_attempts) for item in claimed)
    )
    log.debug("campaign %s: %d messages in %.2fs", campaign_id, len(claimed), time.monotonic() - started)

    async with sessionmaker() as session:
        counts = await deliveries.record_outcomes(session, campaign_id, outcomes)
        if bounced := [o.delivery_id for o in outcomes if o.bounced]:
            await suppression.suppress_bounced(session, bounced)  # a refused address gets no campaign again
        await deliveries.record_server_errors(session, mailer.take_server_errors())
        await session.commit()
        if (campaign := await session.get(Campaign, campaign_id)) is not None:
            await progress.publish(redis, campaign_id, progress.progress_event(campaign))
        failed = [o for o in outcomes if not o.throttled]
        if counts.get("sent"):
            await redis.delete(failures_key(campaign_id))
        elif failed:
            failures = await redis.incrby(failures_key(campaign_id), len(failed))
            if failures >= settings.pause_after_failures:
                last_error = next((o.error for o in reversed(outcomes) if o.error), "unknown error")
                await pause_for_failures(session, campaign_id, failures, last_error)
                return BatchResult(Next.STOP)
    return BatchResult(Next.MORE)


async def _finish_or_wait(session: AsyncSession, campaign_id: int) -> BatchResult:
    remaining, retry_in = await deliveries.remaining(session, campaign_id)
    if remaining:
        delay = IN_FLIGHT_POLL_SECONDS if retry_in is None else max(IN_FLIGHT_POLL_SECONDS, retry_in)
        return BatchResult(Next.WAIT, min(delay, float(get_settings().delivery.lease_seconds)))
    campaign = await sending.complete(session, campaign_id)
    if campaign is not None:
        await session.commit()
        redis = get_redis()
        await progress.publish(redis, campaign_id, progress.progress_event(campaign))
        await progress.publish(redis, campaign_id, progress.status_event(campaign))
        await progress.publish(redis, campaign_id, progress.completed_event(campaign))
    return BatchResult(Next.STOP)


async def pause_for_failures(session: AsyncSession, campaign_id: int, failures: int, last_error: str) -> None:
    campaign = await sending.pause_after_failures(session, campaign_id, failures, last_error)
    if campaign is None:
        return
    await session.commit()
    await get_redis().delete(failures_key(campaign_id))
    await progress.publish(get_redis(), campaign_id, progress.status_event(campaign))
