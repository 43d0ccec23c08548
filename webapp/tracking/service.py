"""Opens, clicks and unsubscribes: update the delivery, the contact's email stats and the
campaign's counters. Counters move once per delivery (the first open, the first click); every
event is kept in email_events for history and analytics."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound
from webapp.core.tokens import TEST_DELIVERY_ID
from webapp.suppression.models import SuppressionReason
from webapp.suppression.service import suppression
from webapp.tracking import queries
from webapp.tracking.queries import DeliveryRef

LINK_GONE = "This link is no longer valid."
SUBSCRIBER = "subscriber"  # who added a suppression entry the subscriber asked for


async def delivery(session: AsyncSession, delivery_id: int) -> DeliveryRef:
    ref = await queries.delivery(session, delivery_id)
    if ref is None:
        raise NotFound(LINK_GONE)
    return ref


async def _first_open(session: AsyncSession, ref: DeliveryRef) -> None:
    if await queries.first_open(session, ref.id):
        await queries.count_open(session, ref)


async def record_open(session: AsyncSession, delivery_id: int) -> None:
    ref = await delivery(session, delivery_id)
    await _first_open(session, ref)
    await queries.stamp_last_open(session, ref.contact_id)
    await queries.add_event(session, ref, "open")


async def record_click(session: AsyncSession, delivery_id: int, link_id: int) -> str:
    """The stored destination of this campaign's link; a link of another campaign is refused."""
    ref = await delivery(session, delivery_id)
    url = await queries.link_url(session, link_id, ref.campaign_id)
    if url is None:
        raise NotFound(LINK_GONE)
    await _first_open(session, ref)  # a click proves an open even when images were blocked
    if await queries.first_click(session, ref.id):
        await queries.count_click(session, ref)
    await queries.stamp_last_click(session, ref.contact_id)
    await queries.add_event(session, ref, "click", link_id)
    return url


async def destination(session: AsyncSession, delivery_id: int, link_id: int) -> str:
    """Where a tracked link goes, recording nothing (HEAD, and a test send's links: their signed
    token names TEST_DELIVERY_ID and a link of the campaign tested)."""
    if delivery_id == TEST_DELIVERY_ID:
        url = await queries.any_link_url(session, link_id)
    else:
        url = await queries.link_url(session, link_id, (await delivery(session, delivery_id)).campaign_id)
    if url is None:
        raise NotFound(LINK_GONE)
    return url


async def unsubscribe(session: AsyncSession, delivery_id: int, source: str) -> DeliveryRef:
    """Stop all marketing mail to this contact, and to the address the message went to even if the
    contact is deleted and added again (suppression list). Safe to repeat; counted once per delivery."""
    ref = await delivery(session, delivery_id)
    if await queries.first_unsubscribe(session, ref.id):
        await queries.count_unsubscribe(session, ref.campaign_id)
        await queries.add_event(session, ref, "unsubscribe", detail=source)
    await queries.unsubscribe_contact(session, ref.contact_id)
    # An erased delivery has no address left: add_many skips it (its hash is suppressed already).
    unsubscribed = SuppressionReason.UNSUBSCRIBE.value
    origin = f"campaign {ref.campaign_id}: {source}"
    await suppression.add_many(session, [ref.email], unsubscribed, source=origin, created_by=SUBSCRIBER)
    return ref
