"""Unsubscribes from a message: the delivery, the contact, the suppression list and the campaign's
counter, at once. Opens and clicks go through the event stream (hits.py), their links are
answered from memory (links.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics import service as analytics
from webapp.contacts import service as contacts
from webapp.core.errors import NotFound
from webapp.core.tokens import LINK_GONE
from webapp.suppression.models import SuppressionReason
from webapp.suppression.service import suppression
from webapp.tracking import queries
from webapp.tracking.queries import DeliveryRef
from webapp.webhooks.service import outbox as webhook_events

SUBSCRIBER = "subscriber"  # who added a suppression entry the subscriber asked for


async def delivery(session: AsyncSession, delivery_id: int) -> DeliveryRef:
    ref = await queries.delivery(session, delivery_id)
    if ref is None:
        raise NotFound(LINK_GONE)
    return ref


async def is_unsubscribed(session: AsyncSession, ref: DeliveryRef) -> bool:
    """Whether the address the message went to has unsubscribed (and not opted in again since)."""
    entry = await suppression.status_of(session, ref.email)
    return entry is not None and entry.reason == SuppressionReason.UNSUBSCRIBE.value


async def unsubscribe(session: AsyncSession, delivery_id: int, source: str) -> DeliveryRef:
    """Stop all marketing mail to this contact, and to the address the message went to even if the
    contact is deleted and added again (suppression list). Safe to repeat; counted once per delivery."""
    ref = await delivery(session, delivery_id)
    await _unsubscribe(session, [ref], source, add_events=True)
    return ref


async def unsubscribe_many(
    session: AsyncSession, delivery_ids: Sequence[int], source: str, *, add_events: bool = True
) -> None:
    """unsubscribe for many messages at once, set-based (a provider's batch of unsubscribe reports);
    unknown ids are skipped. add_events=False: the caller stored the events itself (with their keys)."""
    await _unsubscribe(session, await queries.deliveries(session, delivery_ids), source, add_events=add_events)


async def _unsubscribe(session: AsyncSession, refs: Sequence[DeliveryRef], source: str, *, add_events: bool) -> None:
    delivery_ids = [ref.id for ref in refs]
    event_ids = await queries.first_unsubscribes(session, delivery_ids, source if add_events else None)
    await analytics.roll_up_events(session, event_ids)
    campaign_of = {ref.contact_id: ref.campaign_id for ref in refs}
    events = [
        contacts.webhook_data(contact) | {"source": source, "campaign_id": campaign_of[contact.id]}
        for contact in await queries.unsubscribe_contacts(session, delivery_ids)
    ]
    await webhook_events.emit_many(session, "contact.unsubscribed", events)
    # An erased delivery has no address left: add_many skips it (its hash is suppressed already).
    # The contact's address now is suppressed too, when staff changed it since the message went.
    unsubscribed = SuppressionReason.UNSUBSCRIBE.value
    for campaign_id in sorted({ref.campaign_id for ref in refs}):
        mine = [ref for ref in refs if ref.campaign_id == campaign_id]
        emails = [ref.email for ref in mine] + [ref.contact_email for ref in mine if ref.contact_email]
        origin = f"campaign {campaign_id}: {source}"
        await suppression.add_many(session, emails, unsubscribed, source=origin, created_by=SUBSCRIBER)
