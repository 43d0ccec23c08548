"""The tracking feature's SQL: a delivery as a tracked link names it, its first open, first click
and unsubscribe (each moves the delivery once), the counters they move, and the event log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DETAIL_MAX_LENGTH = 500

DELIVERY = text("""
SELECT d.id, d.campaign_id, d.contact_id, d.email, c.language
FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id
WHERE d.id = :d
""")

# The first open and the first click of a delivery: the guard on opened_at / clicked_at makes the
# UPDATE return a row once, so counters move once however often a message is opened. The status
# only moves forwards (a bounced or unsubscribed delivery keeps its status).
FIRST_OPEN = text("""
UPDATE deliveries SET opened_at = now(), updated_at = now(),
       status = CASE WHEN status IN ('sent', 'delivered') THEN 'opened' ELSE status END
WHERE id = :d AND opened_at IS NULL AND sent_at IS NOT NULL
RETURNING campaign_id, contact_id
""")

FIRST_CLICK = text("""
UPDATE deliveries SET clicked_at = now(), updated_at = now(),
       status = CASE WHEN status IN ('sent', 'delivered', 'opened') THEN 'clicked' ELSE status END
WHERE id = :d AND clicked_at IS NULL AND sent_at IS NOT NULL
RETURNING campaign_id, contact_id
""")

FIRST_UNSUBSCRIBE = text("""
UPDATE deliveries SET unsubscribed_at = now(), status = 'unsubscribed', updated_at = now()
WHERE id = :d AND unsubscribed_at IS NULL
RETURNING id
""")

EVENT = text("""
INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, link_id, detail)
VALUES (:d, :c, :p, :k, :l, :detail)
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


async def link_url(session: AsyncSession, link_id: int, campaign_id: int) -> str | None:
    """The stored destination of a campaign's link; None for a link of another campaign."""
    url: str | None = await session.scalar(
        text("SELECT url FROM links WHERE id = :l AND campaign_id = :c"), {"l": link_id, "c": campaign_id}
    )
    return url


async def any_link_url(session: AsyncSession, link_id: int) -> str | None:
    """A link's stored destination, whichever campaign it belongs to."""
    url: str | None = await session.scalar(text("SELECT url FROM links WHERE id = :l"), {"l": link_id})
    return url


async def first_open(session: AsyncSession, delivery_id: int) -> bool:
    """Mark the delivery opened; True only the first time."""
    return (await session.execute(FIRST_OPEN, {"d": delivery_id})).first() is not None


async def first_click(session: AsyncSession, delivery_id: int) -> bool:
    """Mark the delivery clicked; True only the first time."""
    return (await session.execute(FIRST_CLICK, {"d": delivery_id})).first() is not None


async def first_unsubscribe(session: AsyncSession, delivery_id: int) -> bool:
    """Mark the delivery unsubscribed; True only the first time."""
    return (await session.execute(FIRST_UNSUBSCRIBE, {"d": delivery_id})).first() is not None


async def count_open(session: AsyncSession, ref: DeliveryRef) -> None:
    """A delivery's first open, on its campaign's and its contact's counters."""
    await session.execute(
        text("UPDATE campaigns SET opened_count = opened_count + 1 WHERE id = :c"), {"c": ref.campaign_id}
    )
    await session.execute(
        text("UPDATE contacts SET emails_opened = emails_opened + 1 WHERE id = :p"), {"p": ref.contact_id}
    )


async def count_click(session: AsyncSession, ref: DeliveryRef) -> None:
    """A delivery's first click, on its campaign's and its contact's counters."""
    await session.execute(
        text("UPDATE campaigns SET clicked_count = clicked_count + 1 WHERE id = :c"), {"c": ref.campaign_id}
    )
    await session.execute(
        text("UPDATE contacts SET emails_clicked = emails_clicked + 1 WHERE id = :p"), {"p": ref.contact_id}
    )


async def count_unsubscribe(session: AsyncSession, campaign_id: int) -> None:
    await session.execute(
        text("UPDATE campaigns SET unsubscribed_count = unsubscribed_count + 1 WHERE id = :c"), {"c": campaign_id}
    )


async def stamp_last_open(session: AsyncSession, contact_id: int | None) -> None:
    await session.execute(text("UPDATE contacts SET last_opened = now() WHERE id = :p"), {"p": contact_id})


async def stamp_last_click(session: AsyncSession, contact_id: int | None) -> None:
    await session.execute(text("UPDATE contacts SET last_clicked = now() WHERE id = :p"), {"p": contact_id})


async def unsubscribe_contact(session: AsyncSession, contact_id: int | None) -> None:
    """An active contact becomes unsubscribed; a bounced or complained one keeps its status."""
    await session.execute(
        text("UPDATE contacts SET status = 'unsubscribed', last_updated = now() WHERE id = :p AND status = 'active'"),
        {"p": contact_id},
    )


async def add_event(
    session: AsyncSession, ref: DeliveryRef, kind: str, link_id: int | None = None, detail: str = ""
) -> None:
    """Keep the event for history and analytics (every open and click, not only the first)."""
    values = {"d": ref.id, "c": ref.campaign_id, "p": ref.contact_id, "k": kind, "l": link_id}
    await session.execute(EVENT, {**values, "detail": detail[:DETAIL_MAX_LENGTH]})
