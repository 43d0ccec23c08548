"""Campaign rows: one read under a lock, the lists it goes to, the campaigns the scheduler finds due,
the deliveries a cancel ends, and what the send engine locks and looks for."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests.models import AbTest, AbTestStatus, AbVariant
from webapp.campaigns.models import Campaign, CampaignList, CampaignStatus, Delivery, DeliveryStatus
from webapp.lists.models import EmailList

NOT_SENT_CANCELLED = "Not sent: the campaign was cancelled."


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


async def due(session: AsyncSession) -> list[Campaign]:
    """Scheduled campaigns whose time has come, their rows locked; SKIP LOCKED, so a tick never waits
    for a campaign staff are changing right now (the next tick takes it)."""
    query = (
        select(Campaign)
        .where(Campaign.status == CampaignStatus.SCHEDULED.value, Campaign.scheduled_at <= func.now())
        .order_by(Campaign.scheduled_at)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def cancel_unsent(session: AsyncSession, campaign_id: int) -> None:
    """A cancelled campaign's pending deliveries (and those its A/B test held back) end as
    `cancelled`, in one statement. Rows a worker holds (`sending`) are left to it: it records what
    the server answered."""
    unsent = [DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value]
    await session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.status.in_(unsent))
        .values(status=DeliveryStatus.CANCELLED.value, error_message=NOT_SENT_CANCELLED, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def cancel_ab_test(session: AsyncSession, campaign_id: int) -> None:
    """A test not decided yet ends with its campaign: nothing more of it is sent or chosen."""
    undecided = [AbTestStatus.DRAFT.value, AbTestStatus.TESTING.value, AbTestStatus.WAITING.value]
    await session.execute(
        update(AbTest)
        .where(AbTest.campaign_id == campaign_id, AbTest.status.in_(undecided))
        .values(status=AbTestStatus.CANCELLED.value, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def cancel_abandoned(session: AsyncSession, lease_seconds: int) -> None:
    """Unsent deliveries of every cancelled campaign that no live worker holds end as `cancelled`:
    pending ones, and claimed ones whose worker died (lease run out). Probes the partial index
    ix_deliveries_claimable once per cancelled campaign."""
    cancelled = select(Campaign.id).where(Campaign.status == CampaignStatus.CANCELLED.value)
    pending, claimed = DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value
    lease_ended = Delivery.claimed_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, lease_seconds)
    await session.execute(
        update(Delivery)
        .where(
            Delivery.campaign_id.in_(cancelled.scalar_subquery()),
            Delivery.status.in_([pending, claimed]),
            or_(Delivery.status == pending, lease_ended),
        )
        .values(
            status=DeliveryStatus.CANCELLED.value,
            error_message=NOT_SENT_CANCELLED,
            claimed_at=None,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )


async def sending_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING.value)))


async def locked_for_sending(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign, read afresh, its row locked FOR NO KEY UPDATE until the transaction ends: a
    status change (which locks FOR UPDATE) waits for it, while rows that merely reference the
    campaign (deliveries, events, links) can still be written."""
    query = select(Campaign).where(Campaign.id == campaign_id).with_for_update(key_share=True)  # FOR NO KEY UPDATE
    return await session.scalar(query.execution_options(populate_existing=True))


async def paused_with_reason(session: AsyncSession, reason_prefix: str, auto_resumes_below: int) -> list[int]:
    """Paused campaigns whose reason starts with this text and that resumed by themselves fewer times."""
    query = select(Campaign.id).where(
        Campaign.status == CampaignStatus.PAUSED.value,
        Campaign.status_reason.startswith(reason_prefix, autoescape=True),
        Campaign.auto_resumes < auto_resumes_below,
    )
    return list(await session.scalars(query))


async def variant_overrides(session: AsyncSession, campaign_id: int) -> list[list[str | None]]:
    """What the variants of the campaign's A/B test change in its message, in their order."""
    rows = await session.execute(
        select(
            AbVariant.label,
            AbVariant.subject,
            AbVariant.from_name,
            AbVariant.preheader,
            AbVariant.html_content,
            AbVariant.text_content,
        )
        .join(AbTest, AbTest.id == AbVariant.ab_test_id)
        .where(AbTest.campaign_id == campaign_id)
        .order_by(AbVariant.position)
    )
    return [list(row) for row in rows]
