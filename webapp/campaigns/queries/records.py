"""Campaign rows: one read under a lock, the lists it goes to, and the scheduler's status moves."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignList, CampaignStatus
from webapp.lists.models import EmailList


async def locked(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign, its row locked FOR UPDATE until the transaction ends. Read afresh: a status check
    under the lock must see what others committed, not a copy this session loaded earlier."""
    query = select(Campaign).where(Campaign.id == campaign_id).with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def list_ids_of(session: AsyncSession, campaign_id: int) -> list[int]:
    query = select(CampaignList.list_id).where(CampaignList.campaign_id == campaign_id)
    return list(await session.scalars(query.order_by(CampaignList.list_id)))


async def existing_list_ids(session: AsyncSession, list_ids: Collection[int]) -> set[int]:
    """Which of these lists exist."""
    return set(await session.scalars(select(EmailList.id).where(EmailList.id.in_(list_ids))))


async def replace_lists(session: AsyncSession, campaign_id: int, list_ids: Collection[int]) -> None:
    await session.execute(delete(CampaignList).where(CampaignList.campaign_id == campaign_id))
    if list_ids:
        await session.execute(insert(CampaignList), [{"campaign_id": campaign_id, "list_id": i} for i in list_ids])


async def now(session: AsyncSession) -> datetime:
    """The database's clock (the transaction's start): what scheduled times are compared with."""
    return (await session.execute(select(func.now()))).scalar_one()


async def start_due(session: AsyncSession) -> list[int]:
    """Scheduled campaigns whose time has come become `sending`, in one statement; their ids."""
    query = (
        update(Campaign)
        .where(Campaign.status == CampaignStatus.SCHEDULED.value, Campaign.scheduled_at <= func.now())
        .values(
            status=CampaignStatus.SENDING.value,
            started_at=func.coalesce(Campaign.started_at, func.now()),
            updated_at=func.now(),
        )
        .returning(Campaign.id)
        .execution_options(synchronize_session=False)
    )
    return list(await session.scalars(query))


async def sending_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING.value)))
