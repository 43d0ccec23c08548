"""Today's maximum of every active plan, as the send engine counts against it: one Redis counter
per plan per day, shared by every worker process and host; and a Redis key per held plan (holding
the reason), which the send engine checks with the same call, so a hold or release applies to the
very next message everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.redis import get_redis
from webapp.warmup import queries
from webapp.warmup.models import WarmupPlan
from webapp.warmup.service.schedule import limit_on, today

COUNTER_SECONDS = 2 * 86400  # a day's counter outlives its day, whatever the clocks say
# The send engine reads the plans again at least this often, so an edit applies by then.
PLANS_RECHECK_SECONDS = 10


def held_error(plan_id: int) -> str:
    """What the error of a message held back by a plan says (releasing the plan finds them by it)."""
    return f"Held back by warm-up plan #{plan_id}"


def counter_key(plan_id: int, day: date) -> str:
    return f"warmup:{plan_id}:{day.isoformat()}"


def held_key(plan_id: int) -> str:
    return f"warmup:{plan_id}:held"


async def publish_hold(plan: WarmupPlan) -> None:
    """Tell the send engine whether the plan is held back (the database keeps it in any case)."""
    if plan.held_at is not None:
        await get_redis().set(held_key(plan.id), plan.held_reason)
    else:
        await get_redis().delete(held_key(plan.id))


@dataclass(frozen=True)
class PlanLimit:
    """What the send engine needs of one plan today."""

    plan_id: int
    name: str
    smtp_server_id: int | None
    provider_id: int | None
    from_domain: str | None
    limit: int | None  # today's maximum; None: no limit
    held_reason: str  # set: the plan is held back, nothing goes under it


def plan_limit(plan: WarmupPlan, day: date) -> PlanLimit:
    held = plan.held_reason if plan.held_at is not None else ""
    return PlanLimit(
        plan.id, plan.name, plan.smtp_server_id, plan.provider_id, plan.from_domain, limit_on(plan, day), held
    )


async def limits_today(session: AsyncSession) -> list[PlanLimit]:
    """Active plans that limit sending today (held ones included)."""
    return [p for p in await active_limits(session) if p.limit is not None or p.held_reason]


async def active_limits(session: AsyncSession) -> list[PlanLimit]:
    """Every active plan, also those warmed up (the send engine still checks whether it is held)."""
    day = today()
    return [plan_limit(p, day) for p in await queries.plans(session, active_only=True)]


async def counted(plan_id: int, day: date) -> int:
    """Messages the send engine let go under the plan that day."""
    return int(await get_redis().get(counter_key(plan_id, day)) or 0)
