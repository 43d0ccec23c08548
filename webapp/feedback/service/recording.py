"""Recording a batch of provider reports (FeedbackEvents) in the caller's transaction, set-based.

Each report gets a key made from what identifies it (source, the source's id, kind, recipient), and
is stored in email_events at most once: everything a report does follows only from rows this call
actually inserted, so a provider that sends the same report again, or a webhook retried after a
timeout, changes nothing.

Opens and clicks a provider reports go through the tracking feature's own apply (one place counts
opens and clicks), keyed the same way. Unsubscribes take the one-click unsubscribe's path."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics import service as analytics
from webapp.contacts import service as contacts
from webapp.core.validation import normalize_email
from webapp.feedback import queries
from webapp.feedback.queries import EventRow, Match
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind
from webapp.feedback.service import rates, rules
from webapp.feedback.service.bounces import hard_bounced
from webapp.routing.service import feedback as transport_health
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.suppression.models import SuppressionReason
from webapp.suppression.service import suppression
from webapp.tracking import service as tracking
from webapp.tracking.service import hits
from webapp.webhooks.service import outbox as webhook_events

log = logging.getLogger("mailroom.feedback")

KEY_NAMESPACE = uuid.UUID("9a3e1c20-a530-4c73-b944-7348a2b6eb34")
DETAIL_MAX_LENGTH = 2000
PROVIDER = "provider"  # who added suppression entries a provider's report caused

# The email_events kind each report is stored as.
EVENT_KIND = {
    FeedbackKind.DELIVERED: "delivered",
    FeedbackKind.DEFERRED: "deferred",
    FeedbackKind.BOUNCED: "bounce",
    FeedbackKind.COMPLAINED: "complaint",
    FeedbackKind.UNSUBSCRIBED: "unsubscribe",
    FeedbackKind.OPENED: "open",
    FeedbackKind.CLICKED: "click",
}
TRACKED = {FeedbackKind.OPENED, FeedbackKind.CLICKED}
# Reports that still matter when they match no message we sent, as long as we know the address.
ABOUT_THE_ADDRESS = {FeedbackKind.BOUNCED, FeedbackKind.COMPLAINED, FeedbackKind.UNSUBSCRIBED}


@dataclass
class Recorded:
    """What one call stored. event_ids: the email_events rows it inserted for deliveries, deferrals,
    bounces, complaints and unsubscribes (opens and clicks are counted by tracking's apply, where
    every open and click is)."""

    received: int = 0
    new: int = 0  # stored now (opens and clicks included)
    repeated: int = 0  # stored before: changed nothing
    unmatched: int = 0  # about no message or address we know: logged and dropped
    event_ids: list[int] = field(default_factory=list)
    # Campaigns this batch paused for their complaint rate: the caller tells their live pages once it
    # has committed (delivery.progress.announce), as the staff pause does.
    paused: list[int] = field(default_factory=list)


def event_key(event: FeedbackEvent) -> uuid.UUID:
    """The same report always gets the same key, whoever passes it on and however often."""
    return uuid.uuid5(KEY_NAMESPACE, "\n".join((event.source, event.source_id, event.kind, event.email.lower())))


@dataclass(frozen=True)
class _Report:
    event: FeedbackEvent
    match: Match
    key: uuid.UUID

    @property
    def hard(self) -> bool:
        return self.event.kind == FeedbackKind.BOUNCED and self.event.bounce_type != "soft"

    @property
    def detail(self) -> str:
        detail = self.event.detail
        if self.event.kind == FeedbackKind.BOUNCED:
            detail = f"hard: {detail}" if self.hard else f"{queries.SOFT_BOUNCE_PREFIX}{detail}"
        return detail[:DETAIL_MAX_LENGTH]

    def row(self) -> EventRow:
        m, e = self.match, self.event
        return EventRow(
            self.key, m.delivery_id, m.campaign_id, m.contact_id, EVENT_KIND[e.kind], self.detail, e.at, e.user_agent
        )

    def webhook(self) -> dict[str, Any]:
        m, e = self.match, self.event
        data = {"campaign_id": m.campaign_id, "delivery_id": m.delivery_id, "contact_id": m.contact_id}
        return data | {"email": m.email, "source": e.source.value, "detail": e.detail}


async def record(session: AsyncSession, events: Sequence[FeedbackEvent]) -> Recorded:
    """Store the reports not stored before and apply what they mean; the caller commits."""
    result = Recorded(received=len(events))
    if not events:
        return result
    matches = await queries.resolve(
        session,
        [e.delivery_id for e in events],
        [e.provider_message_id for e in events],
        [e.message_id for e in events],
        [_address(e.email) for e in events],
        [e.url for e in events],
    )
    await queries.lock_deliveries(session, [m.delivery_id for m in matches if m.delivery_id is not None])
    reports, tracked = [], []
    for event, match in zip(events, matches, strict=True):
        report = _Report(event, match, event_key(event))
        if match.delivery_id is None and not (event.kind in ABOUT_THE_ADDRESS and match.contact_id is not None):
            log.info(
                "%s %s report %s is about no message or contact we know; dropped",
                event.source,
                event.kind,
                event.source_id,
            )
            result.unmatched += 1
        elif event.kind in TRACKED:
            tracked.append(report)
        else:
            reports.append(report)

    inserted = await queries.insert_events(session, [r.row() for r in reports])
    # A report repeated inside one batch is inserted once, so it takes effect once (copies are alike).
    new = list({r.key: r for r in reports if r.key in inserted}.values())
    opened_or_clicked = await hits.apply(session, [_hit(r) for r in tracked])
    result.event_ids = sorted(inserted.values())
    await analytics.roll_up_events(session, result.event_ids)
    result.new = len(new) + opened_or_clicked
    result.repeated = len(reports) + len(tracked) - result.new

    delivered = await _delivered(session, [r for r in new if r.event.kind == FeedbackKind.DELIVERED])
    await _bounced(session, [r for r in new if r.event.kind == FeedbackKind.BOUNCED])
    complaints = [r for r in new if r.event.kind == FeedbackKind.COMPLAINED]
    await _complained(session, complaints)
    await transport_health.count_feedback(
        session,
        [r.match.delivery_id for r in new if r.event.kind == FeedbackKind.BOUNCED and r.hard and r.match.delivery_id],
        [r.match.delivery_id for r in complaints if r.match.delivery_id],
    )
    # The complaint rate moves with complaints and with what is delivered: pause where it is too high.
    touched = [r.match.campaign_id for r in complaints if r.match.campaign_id] + [d.campaign_id for d in delivered]
    result.paused = await rates.pause_over_threshold(session, touched)
    await _unsubscribed(session, [r for r in new if r.event.kind == FeedbackKind.UNSUBSCRIBED])
    return result


def _address(reported: str) -> str:
    """The address as contacts and deliveries keep it (Unicode NFC, IDNA domain), to compare in any case."""
    try:
        return normalize_email(reported).lower()
    except ValueError:
        return reported.strip().lower()


def _hit(report: _Report) -> hits.Hit:
    event, match = report.event, report.match
    assert match.delivery_id is not None  # tracked reports all matched a delivery
    kind = EVENT_KIND[event.kind]
    at_ms = int(event.at.timestamp() * 1000)
    link_id = match.link_id if event.kind == FeedbackKind.CLICKED else None
    return hits.Hit(report.key, kind, match.delivery_id, link_id, at_ms, event.user_agent[: hits.USER_AGENT_MAX_LENGTH])


async def _unsubscribed(session: AsyncSession, reports: Sequence[_Report]) -> None:
    """The one-click unsubscribe's effects, one statement set per source (it names the opt-out). A
    report about a contact we sent nothing yet (a message in flight, one sent by another system)
    unsubscribes the contact from everything, as the preference centre's "unsubscribe from all"."""
    for source in sorted({r.event.source for r in reports}):
        delivery_ids = [r.match.delivery_id for r in reports if r.event.source == source and r.match.delivery_id]
        await tracking.unsubscribe_many(session, delivery_ids, f"{source.value} unsubscribe", add_events=False)
    for report in reports:
        if report.match.delivery_id is None and report.match.contact_id is not None:
            origin = Origin(source=f"{report.event.source.value} unsubscribe")
            await subscriptions.unsubscribe_all(session, report.match.contact_id, origin)


def _deliveries(reports: Sequence[_Report]) -> tuple[list[int], list[datetime]]:
    matched = [r for r in reports if r.match.delivery_id is not None]
    return [r.match.delivery_id for r in matched if r.match.delivery_id is not None], [r.event.at for r in matched]


async def _delivered(session: AsyncSession, reports: Sequence[_Report]) -> list[queries.Delivered]:
    firsts = await queries.mark_delivered(session, *_deliveries(reports))
    sources = {r.match.delivery_id: r.event.source.value for r in reports}
    events = [
        {"campaign_id": d.campaign_id, "delivery_id": d.id, "contact_id": d.contact_id, "email": d.email}
        | {"source": sources[d.id]}
        for d in firsts
    ]
    await webhook_events.emit_many(session, "email.delivered", events)
    return firsts


async def _bounced(session: AsyncSession, reports: Sequence[_Report]) -> None:
    """Every bounce is told to webhooks; a hard one suppresses its address at once, soft ones once
    they reach the soft-bounce rule's limit."""
    await webhook_events.emit_many(
        session, "email.bounced", [r.webhook() | {"type": "hard" if r.hard else "soft"} for r in reports]
    )
    hard = [r for r in reports if r.hard]
    matched = [r for r in hard if r.match.delivery_id is not None]
    ids, ats = _deliveries(matched)
    await hard_bounced(session, await queries.mark_bounced(session, ids, ats, [r.detail for r in matched]))
    addresses_only = [r for r in hard if r.match.delivery_id is None]
    await queries.contacts_bounced(session, [r.match.contact_id for r in addresses_only if r.match.contact_id])
    await _suppress(session, addresses_only, SuppressionReason.BOUNCE)
    await rules.apply_soft_bounces(session, [r.match.contact_id for r in reports if not r.hard and r.match.contact_id])


async def _complained(session: AsyncSession, reports: Sequence[_Report]) -> None:
    """A complaint is an opt-out and more: the address is suppressed, the contact complained, and a
    contact that was still subscribed is announced as unsubscribed (once)."""
    if not reports:
        return
    await webhook_events.emit_many(session, "email.complained", [r.webhook() for r in reports])
    await queries.mark_complained(session, _deliveries(reports)[0])
    opted_out = await queries.contacts_complained(session, [r.match.contact_id for r in reports if r.match.contact_id])
    sources = {r.match.contact_id: r.event.source.value for r in reports}
    events = [
        contacts.webhook_data(contact) | {"source": f"{sources[contact.id]} complaint"}
        for contact in await queries.contacts(session, opted_out)
    ]
    await webhook_events.emit_many(session, "contact.unsubscribed", events)
    await _suppress(session, reports, SuppressionReason.COMPLAINT)


async def _suppress(session: AsyncSession, reports: Sequence[_Report], reason: SuppressionReason) -> None:
    """One statement per source (the entry says which provider reported it)."""
    for source in sorted({r.event.source for r in reports}):
        emails = [r.match.email for r in reports if r.event.source == source and r.match.email]
        await suppression.add_many(
            session, emails, reason.value, source=f"{source.value} {reason.value}", created_by=PROVIDER
        )
