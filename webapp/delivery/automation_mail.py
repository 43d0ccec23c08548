"""Automation emails: one delivery row per (enrolment, email step), created with the step's run
(automations.service.emails), sent here through the same rendering, tracking and SMTP pool as
campaign mail, but so that no message is ever sent twice.

SMTP cannot be exactly-once: a worker that dies after the content went and before the server's
reply was stored cannot know whether the server took it. So each message is recorded as being
handed over (`handing`, committed) once the server accepted its recipient and right before its
content goes, after a last look at whether the contact may still be mailed. A worker that dies
leaves its claimed rows `sending` (claimed again when their lease runs out: no server has them) and
the messages it was handing over, or whose acceptance it had not recorded yet, `handing`: those are
marked `in_doubt` instead of being sent again. A transfer that breaks off while the content goes is
in doubt too, and never goes to another server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from webapp.campaigns.models import Campaign
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.delivery import queries as deliveries
from webapp.delivery.campaign_message import PreparedCampaign
from webapp.delivery.mailer import Handover
from webapp.delivery.pipeline import deliver, keep_alive, message_id_domain, message_id_salt, prepared_campaign, record
from webapp.delivery.queries import Claimed, ContactFields, Outcome
from webapp.delivery.queries import automation_mail as queries
from webapp.delivery.transports.base import Route
from webapp.delivery.watch import watch
from webapp.templates.service.rendering import RenderError

log = logging.getLogger("mailroom.delivery")

HEARTBEAT_KEY = "automation-mail:alive"  # a worker is sending automation emails
# Publishing refuses email steps without it; this is for settings cleared since. Sent without one,
# the server would refuse the sender, and the message is the organisation's to fix, not the contact's.
NO_SENDER = "Not sent: the organisation's default From address is not set (Settings → Organisation)."


async def run_batch() -> bool:
    """Claim, send and record one batch of due automation emails; False when none was due."""
    watch.start()
    settings = get_settings().delivery
    async with get_sessionmaker()() as session:
        items = await queries.claim(
            session,
            settings.batch_size,
            lease_seconds=settings.lease_seconds,
            salt=message_id_salt(),
            domain=message_id_domain(),
        )
        await session.commit()
        if not items:
            return False
        contacts = await deliveries.contacts_by_id(session, [i.contact_id for i in items if i.contact_id is not None])
        prepared, kinds = {}, {}
        for campaign_id in sorted({_campaign(i) for i in items}):
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None  # its deliveries are deleted with it
            prepared[campaign_id], kinds[campaign_id] = await prepared_campaign(session, campaign), campaign.kind
    async with keep_alive(HEARTBEAT_KEY, [i.id for i in items]):
        for campaign_id, batch in prepared.items():
            items_of = [i for i in items if _campaign(i) == campaign_id]
            await _send(campaign_id, kinds[campaign_id], batch, items_of, contacts)
    return True


def _campaign(item: Claimed) -> int:
    assert item.campaign_id is not None  # the claim of automation emails returns it
    return item.campaign_id


async def _send(
    campaign_id: int,
    kind: str,
    prepared: PreparedCampaign,
    items: Sequence[Claimed],
    contacts: dict[int, ContactFields],
) -> None:
    await send_rendered(campaign_id, kind, prepared, items, await prepared.render_batch(items, contacts))


async def send_rendered(
    campaign_id: int,
    kind: str,
    prepared: PreparedCampaign,
    items: Sequence[Claimed],
    messages: Sequence[bytes | RenderError],
) -> None:
    """Send each item's message, handed over one by one (never twice), and record the outcomes as
    they come, a few at a time (whatever finished while the last were being recorded), so a worker
    that dies leaves only the messages it was handing over in doubt, not its whole batch."""
    finished: asyncio.Queue[Outcome] = asyncio.Queue()

    async def send(item: Claimed, message: bytes | RenderError) -> None:
        await finished.put(await _send_one(prepared, item, message, Route.to(item.email, kind, campaign_id)))

    sending = asyncio.gather(*(send(item, message) for item, message in zip(items, messages, strict=True)))
    left = len(items)
    while left:
        outcomes = [await finished.get()]
        while not finished.empty():
            outcomes.append(finished.get_nowait())
        await record(campaign_id, outcomes)
        left -= len(outcomes)
    await sending


async def _send_one(prepared: PreparedCampaign, item: Claimed, message: bytes | RenderError, route: Route) -> Outcome:
    if isinstance(message, RenderError):
        return Outcome(item.id, "failed", f"Template error: {message.message}")
    if not prepared.from_email:
        return Outcome(item.id, "failed", NO_SENDER)

    async def hand_over() -> bool:
        async with get_sessionmaker()() as session:
            going = await queries.hand_over(session, item.id)
            await session.commit()
        return going

    hand = Handover(lambda: not watch.stopping, before_data=hand_over)
    try:
        return await deliver(prepared.return_path(item.id), item, message, hand, route)
    except Exception:  # given back: sent again only if it was not being handed over (queries.RECORD)
        log.exception("automation email %s: sending failed unexpectedly; it is given back", item.id)
        return Outcome(item.id, "released")


async def unfinished() -> bool:
    async with get_sessionmaker()() as session:
        return await queries.unfinished(session)
