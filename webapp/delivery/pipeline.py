"""The send loop: claim a batch, render and send it over pooled SMTP, record what happened.

Runs inside Dramatiq actors (see actors.py); everything here is safe to run twice and in many
workers at once, because rows are claimed with FOR UPDATE SKIP LOCKED and outcomes only apply to
rows still claimed. A batch keeps its claim while it is in flight, and stops between two messages
when its campaign stops sending or the worker shuts down (watch.py): what it claimed and had not
handed to a server goes back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests.models import AbVariant
from webapp.abtests.service import sending as abtests
from webapp.bounces.service import mailbox as bounce_mailbox
from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.campaigns.service import sending
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery import progress, smtp_config, warmup
from webapp.delivery import queries as deliveries
from webapp.delivery.campaign_message import MessageSource, PreparedCampaign, prepare, with_variant
from webapp.delivery.failures import failure_run
from webapp.delivery.mailer import (
    Handover,
    InDoubt,
    PermanentFailure,
    Stopped,
    Throttled,
    TransientFailure,
    Unreachable,
)
from webapp.delivery.queries import Claimed, ContactFields, Outcome, Recorded
from webapp.delivery.transports.base import Route
from webapp.delivery.watch import OptOuts, watch
from webapp.feedback import service as feedback
from webapp.settings.service import organisation as org_settings
from webapp.templates.service.rendering import RenderError
from webapp.webhooks.service import outbox as webhook_events

log = logging.getLogger("mailroom.delivery")

MAX_RETRY_DELAY_SECONDS = 3600  # a transient failure waits twice as long each time, up to this
# "A worker serves this campaign" lives this long unless renewed (each batch, and while one is in
# flight), so the scheduler tick restarts a campaign within seconds of its last worker's death.
HEARTBEAT_SECONDS = 10
IN_FLIGHT_POLL_SECONDS = 1.0  # nothing claimable but rows held elsewhere: look again this soon
SALT_LENGTH = 8  # hex characters of the Message-ID salt
SENDING = CampaignStatus.SENDING.value


class Next(Enum):
    MORE = "more"  # claimed and sent a batch; go again
    WAIT = "wait"  # nothing claimable now (retries later, or rows in flight elsewhere)
    STOP = "stop"  # campaign finished, paused, cancelled or gone, or this worker is stopping


@dataclass
class BatchResult:
    next: Next
    delay_seconds: float = 0.0


@dataclass
class _Claim:
    kind: str  # its campaign's kind of mail, for routing
    prepared: PreparedCampaign
    items: list[Claimed]
    contacts: dict[int, ContactFields]
    variants: dict[int, PreparedCampaign]  # by A/B variant id: the batch's variants, each prepared once

    def prepared_for(self, item: Claimed) -> PreparedCampaign:
        return self.prepared if item.ab_variant_id is None else self.variants[item.ab_variant_id]


def heartbeat_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:alive"


_prepared: dict[tuple[int, int | None], tuple[tuple[Any, ...], PreparedCampaign]] = {}


async def prepared_campaign(
    session: AsyncSession, campaign: Campaign, variant: AbVariant | None = None
) -> PreparedCampaign:
    """Compile a campaign (as one of its A/B variants sends it) once per process, and again when
    the organisation's settings (footer, DKIM key) change; the caller's transaction is committed
    when it compiles."""
    org = await org_settings.load(session)
    bounce_address = await bounce_mailbox.bounce_address(session)
    c: MessageSource = campaign if variant is None else with_variant(campaign, variant)
    key = (
        c.subject,
        c.from_name,
        c.from_email,
        c.reply_to,
        c.html_content,
        c.text_content,
        c.settings,
        org,
        bounce_address,
    )
    slot = (campaign.id, None if variant is None else variant.id)
    cached = _prepared.get(slot)
    if cached and cached[0] == key:
        return cached[1]
    prepared = await prepare(session, c, org, get_settings().server.public_url, bounce_address)
    await session.commit()  # links registered while preparing
    _prepared[slot] = (key, prepared)
    return prepared


async def _prepared_variants(
    session: AsyncSession, campaign: Campaign, items: Sequence[Claimed]
) -> dict[int, PreparedCampaign]:
    """Each A/B variant a batch sends, prepared once for the whole batch."""
    variant_ids = sorted({item.ab_variant_id for item in items if item.ab_variant_id is not None})
    if not variant_ids:
        return {}
    variants = await abtests.variants_by_id(session, variant_ids)
    return {i: await prepared_campaign(session, campaign, variants[i]) for i in variant_ids}


def message_id_domain() -> str:
    return urlparse(get_settings().server.public_url).hostname or "mailroom.local"


def message_id_salt() -> str:
    """Part of every Message-ID: the same for every worker of this installation, not guessable."""
    return hashlib.sha256(get_settings().secret_key().encode()).hexdigest()[:SALT_LENGTH]


def _retry_delay(attempts: int) -> int:
    doubled: int = get_settings().delivery.retry_base_seconds * 2 ** (attempts - 1)
    return min(doubled, MAX_RETRY_DELAY_SECONDS)


def _retry_or_give_up(item: Claimed, error: str, unreachable: bool = False) -> Outcome:
    if item.attempts >= get_settings().delivery.max_attempts:
        tries = "1 attempt" if item.attempts == 1 else f"{item.attempts} attempts"
        return Outcome(item.id, "failed", f"Gave up after {tries}: {error}", unreachable=unreachable)
    return Outcome(item.id, "pending", error, retry_seconds=_retry_delay(item.attempts), unreachable=unreachable)


async def deliver(sender: str, item: Claimed, message: bytes, hand: Handover, route: Route) -> Outcome:
    try:
        taken = await smtp_config.send(sender, item.email, message, hand, route=route)
        return Outcome(
            item.id,
            "sent",
            server_id=taken.by.smtp_server_id,
            provider_id=taken.by.provider_id,
            provider_message_id=taken.provider_message_id,
        )
    except Stopped:
        return Outcome(item.id, "released")
    except InDoubt as exc:
        return Outcome(item.id, "in_doubt", str(exc))
    except Throttled as exc:
        retry_seconds = int(exc.retry_after) + 1  # rounded up: not before the budget has room
        return Outcome(item.id, "pending", str(exc), retry_seconds=retry_seconds, throttled=True)
    except PermanentFailure as exc:
        if exc.mailbox_refused:
            return Outcome(item.id, "failed", str(exc), bounced=True)
        return _retry_or_give_up(item, str(exc))  # the server's or the message's fault, not the address's
    except TransientFailure as exc:
        return _retry_or_give_up(item, str(exc), unreachable=isinstance(exc, Unreachable))


async def _send_one(
    campaign_id: int, kind: str, sender: str, item: Claimed, message: bytes | str, hand: Handover
) -> Outcome:
    if isinstance(message, str) and watch.stopping:
        # A SIGTERM to the worker's process group stops its renderer processes too: rendered again
        # by the next worker, the message fails there if its template is at fault.
        outcome = Outcome(item.id, "released")
    elif isinstance(message, str):
        outcome = Outcome(item.id, "failed", f"Template error: {message}")
    else:
        outcome = await deliver(sender, item, message, hand, Route.to(item.email, kind, campaign_id))
    hand.handed = True  # its outcome is known: nothing to take back
    await failure_run.note(campaign_id, outcome)
    return outcome


async def _render_all(claim: _Claim) -> dict[int, bytes | str]:
    """Each claimed message as the bytes to send, or its template's error (renderer processes)."""
    by_variant: dict[int | None, list[Claimed]] = {}
    for item in claim.items:
        by_variant.setdefault(item.ab_variant_id, []).append(item)
    messages: dict[int, bytes | str] = {}
    for items in by_variant.values():
        rendered = await claim.prepared_for(items[0]).render_batch(items, claim.contacts)
        messages |= {
            item.id: message.message if isinstance(message, RenderError) else message
            for item, message in zip(items, rendered, strict=True)
        }
    return messages


async def run_batch(campaign_id: int) -> BatchResult:
    watch.start()
    await watch.ready()
    with watch.opt_outs() as opted_out:
        claim = await _claim(campaign_id)
        if claim is None:
            return await _stopped(campaign_id)
        if not claim.items:
            return await _finish_or_wait(campaign_id)
        claim.items, waiting = await warmup.within_domain_plan(claim.prepared.from_email, claim.items)
        await record(campaign_id, waiting)
        if claim.items:
            await _send(campaign_id, claim, opted_out)
    return BatchResult(Next.MORE)  # the next claim checks whether the campaign still sends


async def _claim(campaign_id: int) -> _Claim | None:
    """A batch of due deliveries; None when the campaign is not sending (or this worker stops)."""
    settings = get_settings().delivery
    await watch.unheld(campaign_id)  # this process is pausing it: read its status once that committed
    async with get_sessionmaker()() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or campaign.status != SENDING or watch.stopping:
            return None
        prepared = await prepared_campaign(session, campaign)
        if await sending.claimable(session, campaign_id) is None:
            return None
        watch.saw(campaign_id, SENDING)  # before the claim commits, so a pause after it wins
        items = await deliveries.claim(
            session,
            campaign_id,
            settings.batch_size,
            lease_seconds=settings.lease_seconds,
            salt=message_id_salt(),
            domain=message_id_domain(),
        )
        await session.commit()
        contact_ids = [c.contact_id for c in items if c.contact_id is not None]
        contacts = await deliveries.contacts_by_id(session, contact_ids) if items else {}
        variants = await _prepared_variants(session, campaign, items)
    return _Claim(campaign.kind, prepared, items, contacts, variants)


async def _send(campaign_id: int, claim: _Claim, opted_out: OptOuts) -> None:
    """Render and send a claimed batch, its lease renewed from the start: rendering can outlast the
    lease (renderer processes starting on a busy machine), and another worker must not claim the
    same rows meanwhile."""
    async with keep_alive(heartbeat_key(campaign_id), [item.id for item in claim.items]):
        await _send_rendered(campaign_id, claim, await _render_all(claim), opted_out)


async def _send_rendered(campaign_id: int, claim: _Claim, messages: dict[int, bytes | str], opted_out: OptOuts) -> None:
    """Send a rendered batch; if its campaign stops meanwhile, give back at once what no server has.
    A message whose contact opted out since the claim is given back when its turn comes, and the
    next claim skips it, naming why."""

    def may_go(contact_id: int | None) -> Callable[[], bool]:
        return lambda: watch.sending(campaign_id) and not opted_out.excludes(contact_id)

    hands = [Handover(may_go(item.contact_id)) for item in claim.items]
    sender = claim.prepared.return_path
    tasks = [
        asyncio.ensure_future(_send_one(campaign_id, claim.kind, sender(item.id), item, messages[item.id], hand))
        for item, hand in zip(claim.items, hands, strict=True)
    ]
    stopped = asyncio.Event()

    def stop() -> None:
        for task, hand in zip(tasks, hands, strict=True):
            if not hand.handed:
                task.cancel()
        stopped.set()

    recorded: set[int] = set()
    with watch.on_stop(campaign_id, stop):
        everything = asyncio.gather(*tasks, return_exceptions=True)
        stop_seen = asyncio.ensure_future(stopped.wait())
        first: list[asyncio.Future[Any]] = [everything, stop_seen]
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        stop_seen.cancel()
        if not everything.done():
            taken_back = [task for task, hand in zip(tasks, hands, strict=True) if not hand.handed]
            if taken_back:
                await asyncio.wait(taken_back)
            early = {i: t for i, t in enumerate(tasks) if t.done()}
            await record(campaign_id, [_outcome(t, claim.items[i]) for i, t in early.items()])
            recorded = set(early)
        await everything
    await record(campaign_id, [_outcome(t, claim.items[i]) for i, t in enumerate(tasks) if i not in recorded])


def _outcome(task: asyncio.Future[Outcome], item: Claimed) -> Outcome:
    """What became of one message: a cancelled one was never handed to a server."""
    if task.cancelled():
        return Outcome(item.id, "released")
    if (error := task.exception()) is not None:
        log.error("delivery %s: sending failed unexpectedly; it is given back", item.id, exc_info=error)
        return Outcome(item.id, "released")
    return task.result()


@contextlib.asynccontextmanager
async def keep_alive(heartbeat: str, delivery_ids: Sequence[int] = ()) -> AsyncIterator[None]:
    """While the block runs, renew this heartbeat key (and these deliveries' lease) now and then."""
    settings = get_settings().delivery
    every = max(1.0, min(settings.lease_seconds, HEARTBEAT_SECONDS) / 3)
    done = asyncio.Event()

    async def renew() -> None:
        while not done.is_set():
            await get_redis().set(heartbeat, "1", ex=HEARTBEAT_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), every)
                return
            if delivery_ids:
                async with get_sessionmaker()() as session:
                    await deliveries.renew(session, delivery_ids)
                    await session.commit()

    renewing = asyncio.ensure_future(renew())
    try:
        yield
    finally:
        done.set()
        await renewing


async def record(campaign_id: int, outcomes: list[Outcome]) -> None:
    if not outcomes:
        return
    async with get_sessionmaker()() as session:
        recorded = await deliveries.record_outcomes(
            session, campaign_id, outcomes, cancelled_error=sending.NOT_SENT_CANCELLED
        )
        await _emit_webhooks(session, campaign_id, recorded)
        # a refused address gets no campaign again, as when a provider reports the bounce
        await feedback.hard_bounced(session, [r.id for r in recorded if r.bounced])
        await deliveries.record_transport_errors(session, (await smtp_config.get_mailer()).take_errors())
        await session.commit()
        if (campaign := await session.get(Campaign, campaign_id)) is not None:
            await progress.publish(get_redis(), campaign_id, progress.progress_event(campaign))


async def _emit_webhooks(session: AsyncSession, campaign_id: int, recorded: Sequence[Recorded]) -> None:
    """email.sent and email.bounced for the batch, one statement each, in the batch's transaction."""

    def event(row: Recorded) -> dict[str, Any]:
        return {"campaign_id": campaign_id, "delivery_id": row.id, "contact_id": row.contact_id, "email": row.email}

    wanted = await webhook_events.subscribed(session, ("email.sent", "email.bounced"))  # most have none
    if "email.sent" in wanted:
        await webhook_events.emit_many(session, "email.sent", [event(r) for r in recorded if r.status == "sent"])
    if "email.bounced" in wanted:
        await webhook_events.emit_many(
            session, "email.bounced", [event(r) | {"type": "hard"} for r in recorded if r.bounced]
        )


async def _stopped(campaign_id: int) -> BatchResult:
    """The campaign no longer sends (paused, cancelled, finished, gone), or this worker stops."""
    if not watch.stopping:
        await get_redis().delete(heartbeat_key(campaign_id))  # so a resume is picked up at the next tick
        async with get_sessionmaker()() as session:
            await sending.end_cancelled(session, get_settings().delivery.lease_seconds)
            await session.commit()
    return BatchResult(Next.STOP)


async def _finish_or_wait(campaign_id: int) -> BatchResult:
    async with get_sessionmaker()() as session:
        remaining, retry_in = await deliveries.remaining(session, campaign_id)
        if remaining:
            delay = IN_FLIGHT_POLL_SECONDS if retry_in is None else max(IN_FLIGHT_POLL_SECONDS, retry_in)
            return BatchResult(Next.WAIT, min(delay, float(get_settings().delivery.lease_seconds)))
        if await abtests.holds_back(session, campaign_id):  # the test share is sent: wait for the winner
            await session.commit()
            return BatchResult(Next.STOP)
        campaign = await sending.complete(session, campaign_id)
        if campaign is not None:
            await session.commit()
            redis = get_redis()
            await progress.publish(redis, campaign_id, progress.progress_event(campaign))
            await progress.publish(redis, campaign_id, progress.status_event(campaign))
            await progress.publish(redis, campaign_id, progress.completed_event(campaign))
    return BatchResult(Next.STOP)
