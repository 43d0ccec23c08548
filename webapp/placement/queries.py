"""All of the placement feature's SQL: seeds, tests and their copies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.placement.models import PlacementCopy, PlacementTest, SeedMailbox


async def seeds(session: AsyncSession, *, active_only: bool = False) -> list[SeedMailbox]:
    query = select(SeedMailbox).order_by(SeedMailbox.provider, SeedMailbox.name, SeedMailbox.id)
    if active_only:
        query = query.where(SeedMailbox.is_active)
    return list(await session.scalars(query))


async def tests_of_campaign(session: AsyncSession, campaign_id: int) -> list[PlacementTest]:
    query = select(PlacementTest).where(PlacementTest.campaign_id == campaign_id).order_by(PlacementTest.id.desc())
    return list(await session.scalars(query))


async def latest_test(session: AsyncSession, campaign_id: int) -> PlacementTest | None:
    query = (
        select(PlacementTest).where(PlacementTest.campaign_id == campaign_id).order_by(PlacementTest.id.desc()).limit(1)
    )
    return (await session.scalars(query)).first()


async def copies(session: AsyncSession, test_id: int) -> list[PlacementCopy]:
    query = (
        select(PlacementCopy)
        .where(PlacementCopy.test_id == test_id)
        .order_by(PlacementCopy.id)
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(query))


async def tests_to_poll(session: AsyncSession) -> list[int]:
    """Tests whose copies are out and not all found, and tests still sending when their wait is over
    (their sender never ran: the poll gives up on them)."""
    wait_over = PlacementTest.created_at + func.make_interval(0, 0, 0, 0, 0, PlacementTest.wait_minutes) <= func.now()
    query = (
        select(PlacementTest.id)
        .where(or_(PlacementTest.status == "waiting", and_(PlacementTest.status == "sending", wait_over)))
        .order_by(PlacementTest.id)
    )
    return list(await session.scalars(query))


async def copies_to_send(session: AsyncSession, test_id: int) -> list[PlacementCopy]:
    """A test's copies not yet handed to a server, locked so that a second run of the sender (an
    actor may run twice) waits and then finds them sent."""
    query = (
        select(PlacementCopy)
        .where(PlacementCopy.test_id == test_id, PlacementCopy.status == "pending")
        .order_by(PlacementCopy.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(query))


async def give_up(session: AsyncSession, test_id: int, never_sent: str) -> None:
    """The test's wait is over: copies sent and never found are missing, copies never sent failed."""
    await session.execute(
        update(PlacementCopy)
        .where(PlacementCopy.test_id == test_id, PlacementCopy.status == "sent")
        .values(status="missing")
    )
    await session.execute(
        update(PlacementCopy)
        .where(PlacementCopy.test_id == test_id, PlacementCopy.status == "pending")
        .values(status="failed", error=never_sent)
    )


async def finish(session: AsyncSession, test_id: int, at: datetime) -> None:
    await session.execute(
        update(PlacementTest)
        .where(PlacementTest.id == test_id, PlacementTest.status != "done")
        .values(status="done", finished_at=at)
    )


async def lock_test(session: AsyncSession, test_id: int) -> PlacementTest | None:
    query = (
        select(PlacementTest)
        .where(PlacementTest.id == test_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # as locked, not as this session last saw it
    )
    return (await session.scalars(query)).first()
