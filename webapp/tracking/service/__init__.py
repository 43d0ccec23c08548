"""Unsubscribes from a message: the delivery, the contact, the suppression list and the campaign's
counter, at once. Opens and clicks go through the event stream (hits.py), their links are
answered from memory (links.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics import service as analytics
from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.errors import NotFound
from webapp.suppression.models import SuppressionReason
from webapp.suppression.service import suppression
from webapp.tracking import queries
from webapp.tracking.queries import DeliveryRef
from webapp.tracking.service.links import LINK_GONE
from webapp.webhooks.service import outbox as webhook_events

SUBSCRIBER = "subscriber"  # who added a suppression entry the subscriber asked for


async def delivery(session: AsyncSession, delivery_id: int) -> DeliveryRef:
    ref = await queries.delivery(session, delivery_id)
    if ref is None:
        raise NotFound(LINK_GONE)
    return ref


async def unsubscribe(session: AsyncSession, delivery_id: int, source: str) -> DeliveryRef:
    """Stop all marketing mail to this contact, and to the address the message went to even if the
    contact is deleted and added again (suppression list). Safe to repeat; counted once per delivery."""
    ref = await delivery(session, delivery_id)
    if await queries.first_unsubscribe(session, ref.id):
        await queries.count_unsubscribe(session, ref.campaign_id)
        await analytics.roll_up_events(session, [await queries.add_event(session, ref, "unsubscribe", detail=source)])
    changed = await queries.unsubscribe_contact(session, ref.contact_id)
    if changed and (contact := await session.get(Contact, ref.contact_id)) is not None:
        await session.refresh(contact)
        event = contacts.webhook_data(contact) | {"source": source, "campaign_id": ref.campaign_id}
        await webhook_events.emit(session, "contact.unsubscribed", event)
    # An erased delivery has no address left: add_many skips it (its hash is suppressed already).
    unsubscribed = SuppressionReason.UNSUBSCRIBE.value
    origin = f"campaign {ref.campaign_id}: {source}"
    await suppression.add_many(session, [ref.email], unsubscribed, source=origin, created_by=SUBSCRIBER)
    return ref
