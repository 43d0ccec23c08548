"""The tracking feature's SQL: a delivery as a tracked link names it, a link's destination, an
unsubscribe (it moves the delivery once) and the counter it moves, and the event log. Opens and
clicks are applied in batches by the event worker: events.py."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import rows_changed

DETAIL_MAX_LENGTH = 500

DELIVERY = text("""
SELECT d.id, d.campaign_id, d.contact_id, d.email, c.language
FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id
WHERE d.id = :d
""")

FIRST_UNSUBSCRIBE = text("""
UPDATE deliveries SET unsubscribed_at = now(), status = 'unsubscribed', updated_at = now()
WHERE id = :d AND unsubscribed_at IS NULL
RETURNING id
""")

EVENT = text("""
INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, link_id, detail)
VALUES (:d, :c, :p, :k, :l, :detail)
RETURNING id
""")


@dataclass(frozen=True)
class DeliveryRef:
    id: int
    campaign_id: int
    contact_id: int | None  # None once the contact was deleted or erased
    email: str
    language: str | None  # the contact's, for the pages a message links to


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


async def first_unsubscribe(session: AsyncSession, delivery_id: int) -> bool:
    """Mark the delivery unsubscribed; True only the first time."""
    return (await session.execute(FIRST_UNSUBSCRIBE, {"d": delivery_id})).first() is not None


async def count_unsubscribe(session: AsyncSession, campaign_id: int) -> None:
    await session.execute(
        text("UPDATE campaigns SET unsubscribed_count = unsubscribed_count + 1 WHERE id = :c"), {"c": campaign_id}
    )


async def unsubscribe_contact(session: AsyncSession, contact_id: int | None) -> bool:
    """An active contact becomes unsubscribed (True); a bounced or complained one keeps its status."""
    result = await session.execute(
        text("UPDATE contacts SET status = 'unsubscribed', last_updated = now() WHERE id = :p AND status = 'active'"),
        {"p": contact_id},
    )
    return rows_changed(result) > 0


async def add_event(
    session: AsyncSession, ref: DeliveryRef, kind: str, link_id: int | None = None, detail: str = ""
) -> int:
    """Keep the event for history and analytics; its id."""
    values = {"d": ref.id, "c": ref.campaign_id, "p": ref.contact_id, "k": kind, "l": link_id}
    event_id: int = await session.scalar(EVENT, {**values, "detail": detail[:DETAIL_MAX_LENGTH]})
    return event_id
