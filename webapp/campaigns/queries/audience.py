"""Who a campaign reaches, counted or written down as one delivery row per recipient. The audience
itself is a predicate over contacts that the lists feature builds from the campaign's lists."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import BigInteger, ColumnElement, and_, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Delivery
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList


async def lists_by_id(session: AsyncSession, list_ids: Collection[int]) -> list[EmailList]:
    return list(await session.scalars(select(EmailList).where(EmailList.id.in_(list_ids))))


async def count(session: AsyncSession, audience: ColumnElement[bool]) -> int:
    return await session.scalar(select(func.count()).select_from(Contact).where(audience)) or 0


async def materialise(session: AsyncSession, campaign_id: int, audience: ColumnElement[bool]) -> int:
    """Create the campaign's delivery rows in one INSERT ... SELECT; returns the recipient count.

    Each contact has a unique address (case-insensitive) and a delivery is unique per (campaign,
    contact), so one address never gets a campaign twice, however many of its lists it is on; run
    again, it adds nobody twice."""
    recipients = (
        select(literal(campaign_id, BigInteger), Contact.id, Contact.email).where(audience).order_by(Contact.id)
    )
    await session.execute(
        insert(Delivery)
        .from_select(["campaign_id", "contact_id", "email"], recipients)
        .on_conflict_do_nothing(
            index_elements=[Delivery.campaign_id, Delivery.contact_id],
            index_where=and_(Delivery.enrolment_id.is_(None), Delivery.tx_message_id.is_(None)),
        )
    )
    total = select(func.count()).select_from(Delivery).where(Delivery.campaign_id == campaign_id)
    return await session.scalar(total) or 0
