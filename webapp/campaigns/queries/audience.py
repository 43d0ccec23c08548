"""Who a campaign reaches, counted or written down as one delivery row per recipient. The audience
itself is a predicate over contacts that the lists feature builds from the campaign's lists."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import BigInteger, ColumnElement, Subquery, and_, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Delivery, EmailEvent
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList


async def lists_by_id(session: AsyncSession, list_ids: Collection[int]) -> list[EmailList]:
    return list(await session.scalars(select(EmailList).where(EmailList.id.in_(list_ids))))


async def count(session: AsyncSession, audience: ColumnElement[bool]) -> int:
    return await session.scalar(select(func.count()).select_from(Contact).where(audience)) or 0


ENGAGED_WITHIN = timedelta(days=90)  # an open or click older than this no longer makes a recipient "engaged"


def _latest_engagement() -> Subquery:
    """Each contact's latest open or click of a person (machine opens and scanner clicks left out)
    in the last ENGAGED_WITHIN: one pass over those days' events."""
    return (
        select(EmailEvent.contact_id, func.max(EmailEvent.at).label("at"))
        .where(
            EmailEvent.kind.in_(("open", "click")),
            EmailEvent.machine.is_(False),
            EmailEvent.at > func.now() - ENGAGED_WITHIN,
        )
        .group_by(EmailEvent.contact_id)
        .subquery()
    )


async def materialise(
    session: AsyncSession, campaign_id: int, audience: ColumnElement[bool], *, engaged_first: bool = False
) -> int:
    """Create the campaign's delivery rows in one INSERT ... SELECT; returns the recipient count.
    Rows are claimed in id order, so the order they are written in is the order they go in:
    contact by contact, or the most engaged first (a campaign under warm-up).

    Each contact has a unique address (case-insensitive) and a delivery is unique per (campaign,
    contact), so one address never gets a campaign twice, however many of its lists it is on; run
    again, it adds nobody twice."""
    recipients = select(literal(campaign_id, BigInteger), Contact.id, Contact.email).where(audience)
    if engaged_first:  # the most recently engaged first, then the others
        latest = _latest_engagement()
        recipients = recipients.outerjoin(latest, latest.c.contact_id == Contact.id).order_by(
            latest.c.at.desc().nulls_last(), Contact.id
        )
    else:
        recipients = recipients.order_by(Contact.id)
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
