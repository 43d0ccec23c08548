"""Opens, clicks and unsubscribes: update the delivery, the contact's email stats and the
campaign's counters. Counters move once per delivery (the first open, the first click); every
event is kept in email_events for history and analytics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound

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


@dataclass(frozen=True)
class DeliveryRef:
    id: int
    campaign_id: int
    contact_id: int | None
    email: str


async def delivery(session: AsyncSession, delivery_id: int) -> DeliveryRef:
    row = (
        await session.execute(
            text("SELECT id, campaign_id, contact_id, email FROM deliveries WHERE id = :d"), {"d": delivery_id}
        )
    ).first()
    if row is None:
        raise NotFound("This link is no longer valid.")
    return DeliveryRef(*row)


async def _event(
    session: AsyncSession, ref: DeliveryRef, kind: str, link_id: int | None = None, detail: str = ""
) -> None:
    await session.execute(
        text("""INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, link_id, detail)
                VALUES (:d, :c, :p, :k, :l, :detail)"""),
        {"d": ref.id, "c": ref.campaign_id, "p": ref.contact_id, "k": kind, "l": link_id, "detail": detail[:500]},
    )


async def _first_open(session: AsyncSession, ref: DeliveryRef) -> None:
    if (await session.execute(FIRST_OPEN, {"d": ref.id})).first():
        await session.execute(
            text("UPDATE campaigns SET opened_count = opened_count + 1 WHERE id = :c"), {"c": ref.campaign_id}
        )
        await session.execute(
            text("UPDATE contacts SET emails_opened = emails_opened + 1 WHERE id = :p"), {"p": ref.contact_id}
        )


async def record_open(session: AsyncSession, delivery_id: int) -> None:
    ref = await delivery(session, delivery_id)
    await _first_open(session, ref)
    await session.execute(text("UPDATE contacts SET last_opened = now() WHERE id = :p"), {"p": ref.contact_id})
    await _event(session, ref, "open")


async def record_click(session: AsyncSession, delivery_id: int, link_id: int) -> str:
    """The stored destination of this campaign's link; a link of another campaign is refused."""
    ref = await delivery(session, delivery_id)
    url = await session.scalar(
        text("SELECT url FROM links WHERE id = :l AND campaign_id = :c"), {"l": link_id, "c": ref.campaign_id}
    )
    if url is None:
        raise NotFound("This link is no longer valid.")
    await _first_open(session, ref)  # a click proves an open even when images were blocked
    if (await session.execute(FIRST_CLICK, {"d": ref.id})).first():
        await session.execute(
            text("UPDATE campaigns SET clicked_count = clicked_count + 1 WHERE id = :c"), {"c": ref.campaign_id}
        )
        await session.execute(
            text("UPDATE contacts SET emails_clicked = emails_clicked + 1 WHERE id = :p"), {"p": ref.contact_id}
        )
    await session.execute(text("UPDATE contacts SET last_clicked = now() WHERE id = :p"), {"p": ref.contact_id})
    await _event(session, ref, "click", link_id)
    return url


async def unsubscribe(session: AsyncSession, delivery_id: int, source: str) -> DeliveryRef:
    """Stop all marketing mail to this contact. Safe to repeat; counted once per delivery."""
    ref = await delivery(session, delivery_id)
    first = (
        await session.execute(
            text("""UPDATE deliveries SET unsubscribed_at = now(), status = 'unsubscribed', updated_at = now()
                WHERE id = :d AND unsubscribed_at IS NULL RETURNING id"""),
            {"d": ref.id},
        )
    ).first()
    if first:
        await session.execute(
            text("UPDATE campaigns SET unsubscribed_count = unsubscribed_count + 1 WHERE id = :c"),
            {"c": ref.campaign_id},
        )
        await _event(session, ref, "unsubscribe", detail=source)
    await session.execute(
        text("""UPDATE contacts SET status = 'unsubscribed', last_updated = now()
                WHERE id = :p AND status = 'active'"""),
        {"p": ref.contact_id},
    )
    return ref
