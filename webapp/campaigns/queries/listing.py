"""Campaign listings with keyset pagination: the campaign table (newest first), one campaign's
deliveries (in send order, optionally of one status) and one contact's delivery history. No OFFSET
and no COUNT(*) of big tables.

Cursors are opaque (core/cursors.py); anything that is not a cursor we made reads as "first page",
so a hand-edited URL never errors (the API refuses such a cursor with `is_*_cursor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignKind, CampaignList, Delivery, DeliveryStatus
from webapp.campaigns.models import CampaignStatus as S
from webapp.contacts.models import Contact
from webapp.core.cursors import Part, decode_cursor, encode_cursor
from webapp.core.queries import NEWEST_FIRST, newest_first
from webapp.lists.models import EmailList

CAMPAIGN_KEY = NEWEST_FIRST  # created_at, id
DELIVERY_KEY = (Part.ID,)


def is_campaign_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *CAMPAIGN_KEY) is not None


def is_delivery_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *DELIVERY_KEY) is not None


@dataclass(frozen=True)
class CampaignPage:
    campaigns: list[Campaign]
    next_cursor: str | None


async def find_campaigns(
    session: AsyncSession,
    *,
    status: str | None = None,
    created_by: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> CampaignPage:
    """Newest first: (created_at, id) descending, read from the index of that shape. An
    automation's email steps are not listed (they are the automation's), nor transactional messages'
    campaigns (one per template: the Transactional page shows them)."""
    query = select(Campaign).where(Campaign.kind == CampaignKind.MARKETING.value)
    if status:
        query = query.where(Campaign.status == status)
    if created_by is not None:
        query = query.where(Campaign.created_by == created_by)
    rows, next_cursor = await newest_first(session, query, Campaign.created_at, Campaign.id, limit=limit, cursor=cursor)
    return CampaignPage(rows, next_cursor)


async def list_ids_by_campaign(session: AsyncSession, campaign_ids: list[int]) -> dict[int, list[int]]:
    """The audience lists of several campaigns in one query."""
    if not campaign_ids:
        return {}
    rows = await session.execute(
        select(CampaignList.campaign_id, func.array_agg(CampaignList.list_id).label("ids"))
        .where(CampaignList.campaign_id.in_(campaign_ids))
        .group_by(CampaignList.campaign_id)
    )
    found = {campaign_id: sorted(ids) for campaign_id, ids in rows}
    return {campaign_id: found.get(campaign_id, []) for campaign_id in campaign_ids}


async def lists_of(session: AsyncSession, campaign_id: int) -> list[EmailList]:
    """The campaign's lists by name, archived ones included."""
    return list(
        await session.scalars(
            select(EmailList)
            .join(CampaignList, CampaignList.list_id == EmailList.id)
            .where(CampaignList.campaign_id == campaign_id)
            .order_by(func.lower(EmailList.name))
        )
    )


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    contacts: dict[int, Contact]  # the page's contacts, for personalising what is shown
    next_cursor: str | None


# A recipient filter picks what happened to the message, whatever happened next: an opener who then
# clicked or unsubscribed still opened it, though the delivery's status has moved on. The statuses
# without a time of their own (pending, sending, delivered, complained, failed) match the status.
HAPPENED = {
    DeliveryStatus.SENT.value: Delivery.sent_at,
    DeliveryStatus.OPENED.value: Delivery.opened_at,
    DeliveryStatus.CLICKED.value: Delivery.clicked_at,
    DeliveryStatus.BOUNCED.value: Delivery.bounced_at,
    DeliveryStatus.UNSUBSCRIBED.value: Delivery.unsubscribed_at,
}


async def find_deliveries(
    session: AsyncSession,
    campaign_id: int,
    *,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    with_contacts: bool = False,
) -> DeliveryPage:
    """One campaign's deliveries by id (the order they were created and claimed in), optionally only
    those to which `status` happened (HAPPENED)."""
    query = select(Delivery).where(Delivery.campaign_id == campaign_id)
    if status:
        stamp = HAPPENED.get(status)
        query = query.where(stamp.is_not(None) if stamp is not None else Delivery.status == status)
    if after := decode_cursor(cursor, *DELIVERY_KEY):
        query = query.where(Delivery.id > after[0])
    rows = list(await session.scalars(query.order_by(Delivery.id).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    contacts: dict[int, Contact] = {}
    if with_contacts and (ids := [d.contact_id for d in rows if d.contact_id is not None]):
        contacts = {c.id: c for c in await session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    return DeliveryPage(rows, contacts, encode_cursor(rows[-1].id) if more and rows else None)


@dataclass(frozen=True)
class HistoryEntry:
    """One email a contact was sent (a campaign's, an automation's or a transactional one), and what
    became of it."""

    campaign_id: int
    campaign: str  # its name
    kind: str  # CampaignKind
    automation_id: int | None
    template_id: int | None
    status: str
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    unsubscribed_at: datetime | None
    error_message: str


async def history_of_contact(session: AsyncSession, contact_id: int, limit: int) -> list[HistoryEntry]:
    """The contact's most recent deliveries, newest first (read from ix_deliveries_contact_id)."""
    query = (
        select(
            Campaign.id,
            Campaign.name,
            Campaign.kind,
            Campaign.automation_id,
            Campaign.template_id,
            Delivery.status,
            Delivery.sent_at,
            Delivery.opened_at,
            Delivery.clicked_at,
            Delivery.unsubscribed_at,
            Delivery.error_message,
        )
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(Delivery.contact_id == contact_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return [HistoryEntry(*row) for row in await session.execute(query)]


async def delivery_with_contact(session: AsyncSession, delivery_id: int) -> tuple[Delivery, Contact | None] | None:
    """One delivery and its contact (None once the contact is deleted or erased)."""
    row = (
        await session.execute(
            select(Delivery, Contact)
            .outerjoin(Contact, Contact.id == Delivery.contact_id)
            .where(Delivery.id == delivery_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def held_count(session: AsyncSession, campaign_id: int) -> int:
    """Recipients an A/B test holds back until its winner is chosen (ix_deliveries_campaign_status)."""
    query = select(func.count()).where(
        Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.HELD.value
    )
    return int(await session.scalar(query) or 0)


async def unsent_to_list(session: AsyncSession, list_id: int) -> list[Campaign]:
    """Campaigns going to this list that have not finished (drafts, scheduled, sending, paused), by name."""
    unsent = (S.DRAFT.value, S.SCHEDULED.value, S.SENDING.value, S.PAUSED.value)
    query = (
        select(Campaign)
        .join(CampaignList, CampaignList.campaign_id == Campaign.id)
        .where(CampaignList.list_id == list_id, Campaign.status.in_(unsent))
        .order_by(func.lower(Campaign.name), Campaign.id)
    )
    return list((await session.scalars(query)).all())
