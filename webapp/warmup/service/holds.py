"""Holding a plan back: when the bounce or complaint rate of its recent messages passes the
plan's threshold (over at least min_sample messages, so one early bounce is not a rate), nothing
more goes under it until a staff member releases it. Checked by the workers' scheduler tick.

The rates count the plan's messages of the last WINDOW_DAYS days, since its first day and since
it was last released: a release starts the count afresh, so the same bounces do not hold it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import Conflict
from webapp.warmup import queries
from webapp.warmup.models import WarmupPlan
from webapp.warmup.queries import PlanCounts
from webapp.warmup.service import get_plan
from webapp.warmup.service.quota import held_error, publish_hold

WINDOW_DAYS = 7


@dataclass(frozen=True)
class PlanRates:
    counts: PlanCounts
    since: datetime

    @property
    def bounce_rate(self) -> float:
        """Percent of the messages handed over."""
        return 100 * self.counts.bounces / self.counts.handed if self.counts.handed else 0.0

    @property
    def complaint_rate(self) -> float:
        """Percent of the messages sent."""
        return 100 * self.counts.complaints / self.counts.sent if self.counts.sent else 0.0


def _since(plan: WarmupPlan, now: datetime) -> datetime:
    starts = datetime.combine(plan.starts_on, time(), tzinfo=UTC)
    return max(now - timedelta(days=WINDOW_DAYS), starts, plan.released_at or starts)


async def rates(session: AsyncSession, plan: WarmupPlan) -> PlanRates:
    since = _since(plan, datetime.now(UTC))
    return PlanRates(await queries.plan_counts(session, plan, since), since)


def hold_reason(plan: WarmupPlan, found: PlanRates) -> str:
    """Why the plan is held back now, or "" when its rates are within bounds."""
    counts = found.counts
    if counts.handed < plan.min_sample:
        return ""
    if found.bounce_rate >= plan.bounce_threshold:
        return (
            f"The bounce rate reached {found.bounce_rate:.1f} % ({counts.bounces:,} of {counts.handed:,} messages); "
            f"the plan holds back from {plan.bounce_threshold:g} %."
        )
    if found.complaint_rate >= plan.complaint_threshold:
        return (
            f"The complaint rate reached {found.complaint_rate:.2f} % ({counts.complaints:,} of {counts.sent:,} "
            f"messages); the plan holds back from {plan.complaint_threshold:g} %."
        )
    return ""


async def hold_over_thresholds(session: AsyncSession) -> list[WarmupPlan]:
    """Hold back every active plan whose rates passed a threshold; the plans newly held. Whether
    each plan is held is told to the send engine every time (Redis may have restarted empty, or a
    transaction that held or released a plan failed after telling it), from the plans read again
    and locked: a release committed since the first read must not be told "held" afterwards, or
    its messages would be held again for the send engine's recheck interval. The caller commits, soon."""
    held = []
    for plan in await queries.plans(session, active_only=True):
        if plan.held_at is None and (reason := hold_reason(plan, await rates(session, plan))):
            plan.held_at, plan.held_reason = datetime.now(UTC), reason
            held.append(plan)
    await session.flush()
    for plan in await queries.active_plans_as_committed(session):
        await publish_hold(plan)
    return held


async def release(session: AsyncSession, plan_id: int, released_by: str) -> WarmupPlan:
    """Let mail go under a held plan again (someone looked into the bounces or complaints): its
    held messages go at once. The caller commits."""
    plan = await get_plan(session, plan_id)
    if plan.held_at is None:
        raise Conflict("This plan is not held back.")
    plan.held_at, plan.held_reason = None, ""
    plan.released_at, plan.released_by = datetime.now(UTC), released_by
    # a space ends the marker: plan #1's must not match plan #12's
    await queries.bring_forward(session, held_error(plan.id) + " ")
    await session.flush()
    await publish_hold(plan)
    return plan
