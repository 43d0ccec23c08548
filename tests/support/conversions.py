"""A sent campaign whose recipients clicked, arranged directly in the database, for the conversion
tests: clicks are stored as the event worker stores them (kind 'click', with the machine flag)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.campaigns import audience, ready_campaign
from webapp.delivery.queries import register_links

OFFER = "https://example.com/offer"


@dataclass(frozen=True)
class Sent:
    campaign_id: int
    delivery_id: int
    link_id: int
    contact_id: int


async def sent_to(db: AsyncSession, email: str, name: str = "Spring sale") -> Sent:
    """A campaign sent to the contact with this address (made if missing), with one tracked link."""
    contact_id = await db.scalar(
        text("""INSERT INTO contacts (email) VALUES (:e)
                ON CONFLICT (lower(email)) DO UPDATE SET email = EXCLUDED.email RETURNING id"""),
        {"e": email},
    )
    campaign = await ready_campaign(db, [(await audience(db, 0, name=f"{name} list")).id], name=name)
    delivery_id = await db.scalar(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                VALUES (:c, :k, :e, 'sent', now()) RETURNING id"""),
        {"c": campaign.id, "k": contact_id, "e": email},
    )
    link_id = (await register_links(db, campaign.id, [OFFER]))[OFFER]
    return Sent(campaign.id, delivery_id, link_id, contact_id)


async def click(db: AsyncSession, sent: Sent, at: datetime, *, machine: bool = False) -> None:
    await db.execute(
        text("""INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, link_id, at, machine)
                VALUES (:d, :c, :k, 'click', :l, :at, :m)"""),
        {"d": sent.delivery_id, "c": sent.campaign_id, "k": sent.contact_id, "l": sent.link_id, "at": at, "m": machine},
    )
