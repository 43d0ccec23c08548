"""The SQL of conversions: find one by order, credit a click, sum a campaign's revenue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import EmailEvent
from webapp.conversions.models import Conversion
from webapp.conversions.schemas import Revenue


async def by_order(session: AsyncSession, order_id: str) -> Conversion | None:
    return await session.scalar(select(Conversion).where(Conversion.order_id == order_id))


async def of_contact(session: AsyncSession, contact_id: int) -> list[Conversion]:
    found = await session.scalars(
        select(Conversion).where(Conversion.contact_id == contact_id).order_by(Conversion.occurred_at, Conversion.id)
    )
    return list(found)


async def last_human_click(
    session: AsyncSession, contact_id: int, since: datetime, until: datetime
) -> dict[str, int | None]:
    """The campaign, delivery and link of the contact's latest human click in [since, until], or {}
    when there was none (the conversion's credit, as its columns). Reads
    ix_email_events_contact_id_at backwards, and only the monthly partitions the window touches."""
    row = (
        await session.execute(
            select(EmailEvent.campaign_id, EmailEvent.delivery_id, EmailEvent.link_id)
            .where(
                EmailEvent.contact_id == contact_id,
                EmailEvent.at.between(since, until),
                EmailEvent.kind == "click",
                EmailEvent.machine.is_(False),
                EmailEvent.delivery_id.is_not(None),
                EmailEvent.campaign_id.is_not(None),
            )
            .order_by(EmailEvent.at.desc())
            .limit(1)
        )
    ).first()
    return dict(row._mapping) if row else {}


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> Conversion | None:
    """The new conversion, or None when its order is stored already (by a concurrent request too)."""
    new_id = await session.scalar(
        insert(Conversion).values(**values).on_conflict_do_nothing(index_elements=["order_id"]).returning(Conversion.id)
    )
    return None if new_id is None else await session.get(Conversion, new_id)


async def campaign_revenue(session: AsyncSession, campaign_id: int) -> list[Revenue]:
    """Orders and their sum per currency, from ix_conversions_campaign_currency."""
    rows = await session.execute(
        select(Conversion.currency, func.count(), func.sum(Conversion.amount))
        .where(Conversion.campaign_id == campaign_id)
        .group_by(Conversion.currency)
        .order_by(Conversion.currency)
    )
    return [Revenue(currency=currency, orders=orders, amount=amount) for currency, orders, amount in rows]
