"""A plan as its pages show it: where it stands today (day, maximum, what went, held or not) and
its recent rates."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.warmup.models import WarmupPlan
from webapp.warmup.service.quota import counted
from webapp.warmup.service.schedule import day_number, limit_on, today


@dataclass(frozen=True)
class PlanToday:
    plan: WarmupPlan
    day: int | None  # 1 to 30; None once warmed up
    limit: int | None  # today's maximum; None: no limit
    counted: int  # messages that went under it today
    state: str  # held back, inactive, warmed up, not started, warming up


def _state(plan: WarmupPlan, day: int | None) -> str:
    if plan.held_at is not None:
        return "held back"
    if not plan.is_active:
        return "inactive"
    if day is None:
        return "warmed up"
    return "warming up" if plan.starts_on <= today() else "not started"


async def plan_today(plan: WarmupPlan) -> PlanToday:
    on = today()
    day = day_number(plan, on)
    return PlanToday(plan, day, limit_on(plan, on), await counted(plan.id, on), _state(plan, day))


async def plans_today(plans: list[WarmupPlan]) -> list[PlanToday]:
    return [await plan_today(plan) for plan in plans]
