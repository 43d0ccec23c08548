"""The tracking feature's SQL: a delivery as a tracked link names it, a link's destination, an
unsubscribe (it moves the delivery once) and the counter it moves, and the event log. Opens and
clicks are applied in batches by the event worker: events.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact

DETAIL_MAX_LENGTH = 500

DELIVERY = text("""
SELECT d.id, d.campaign_id, d.contact_id, d.email, c.language, c.email
FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id
WHERE d.id = :d
""")

DELIVERIES = text("""
SELECT d.id, d.campaign_id, d.contact_id, d.email, c.language, c.email
FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id
WHERE d.id = ANY(CAST(:ids AS bigint[])) ORDER BY d.id
""")

# Messages unsubscribed from for the first time: each counted once on its campaign, and its event
# stored (unless the caller stores its own: :detail is NULL).
FIRST_UNSUBSCRIBES = text("""
WITH firsts AS (
  UPDATE deliveries SET unsubscribed_at = now(), status = 'unsubscribed', updated_at = now()
  WHERE id = ANY(CAST(:ids AS bigint[])) AND unsubscribed_at IS NULL
  RETURNING id, campaign_id, contact_id
), counted AS (
  UPDATE campaigns c SET unsubscribed_count = c.unsubscribed_count + f.n
  FROM (SELECT campaign_id, count(*) AS n FROM firsts GROUP BY campaign_id) f WHERE c.id = f.campaign_id
), events AS (
  INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, detail)
  SELECT id, campaign_id, contact_id, 'unsubscribe', CAST(:detail AS text)
  FROM firsts WHERE CAST(:detail AS text) IS NOT NULL
  RETURNING id
)
SELECT ARRAY(SELECT id FROM events ORDER BY id) AS event_ids
""")

# Active contacts of these messages become unsubscribed; a bounced or complained one keeps its status.
UNSUBSCRIBE_CONTACTS = text("""
UPDATE contacts SET status = 'unsubscribed', last_updated = now()
WHERE id IN (SELECT contact_id FROM deliveries WHERE id = ANY(CAST(:ids AS bigint[]))) AND status = 'active'
RETURNING id
""")


@dataclass(frozen=True)
class DeliveryRef:
    id: int
    campaign_id: int
    contact_id: int | None  # None once the contact was deleted or erased
    email: str
    language: str | None  # the contact's, for the pages a message links to
    contact_email: str | None = None  # the contact's address now (staff may have changed it since)


async def delivery(session: AsyncSession, delivery_id: int) -> DeliveryRef | None:
    row = (await session.execute(DELIVERY, {"d": delivery_id})).first()
    return DeliveryRef(*row) if row else None


async def link(session: AsyncSession, link_id: int) -> tuple[int, str] | None:
    """A link's campaign and stored destination."""
    row = (await session.execute(text("SELECT campaign_id, url FROM links WHERE id = :l"), {"l": link_id})).first()
    return (row[0], row[1]) if row else None


async def campaign_of(session: AsyncSession, delivery_id: int) -> int | None:
    campaign_id: int | None = await session.scalar(
        text("SELECT campaign_id FROM deliveries WHERE id = :d"), {"d": delivery_id}
    )
    return campaign_id


async def deliveries(session: AsyncSession, delivery_ids: Sequence[int]) -> list[DeliveryRef]:
    return [DeliveryRef(*row) for row in (await session.execute(DELIVERIES, {"ids": list(delivery_ids)})).all()]


async def first_unsubscribes(session: AsyncSession, delivery_ids: Sequence[int], detail: str | None) -> list[int]:
    """Mark the deliveries unsubscribed; the events stored for those that were not before.
    detail: of their events (None: store none)."""
    if not delivery_ids:
        return []
    detail = None if detail is None else detail[:DETAIL_MAX_LENGTH]
    event_ids: list[int] = await session.scalar(FIRST_UNSUBSCRIBES, {"ids": list(delivery_ids), "detail": detail})
    return event_ids


async def unsubscribe_contacts(session: AsyncSession, delivery_ids: Sequence[int]) -> list[Contact]:
    """The contacts of these messages that were active and are unsubscribed now (loaded afresh)."""
    if not delivery_ids:
        return []
    changed = list(await session.scalars(UNSUBSCRIBE_CONTACTS, {"ids": list(delivery_ids)}))
    if not changed:
        return []
    query = select(Contact).where(Contact.id.in_(changed)).order_by(Contact.id)
    return list(await session.scalars(query.execution_options(populate_existing=True)))
