"""Warm-up plans: their rules and storage. One plan per SMTP server, per API provider and per From
domain; the server or provider must exist. See schedule.py (days and maxima), quota.py (what the send engine counts),
holds.py (holding a plan back and releasing it) and campaigns.py (what a campaign's page shows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.core.validation import is_valid_id
from webapp.warmup import queries
from webapp.warmup.models import WarmupPlan
from webapp.warmup.schemas import PlanInput


async def list_plans(session: AsyncSession) -> list[WarmupPlan]:
    return await queries.plans(session)


async def server_names(session: AsyncSession) -> dict[int, str]:
    """Every SMTP server a plan may warm up, by id."""
    return await queries.server_names(session)


async def provider_names(session: AsyncSession) -> dict[int, str]:
    """Every API provider a plan may warm up, by id."""
    return await queries.provider_names(session)


async def get_plan(session: AsyncSession, plan_id: int) -> WarmupPlan:
    plan = await session.get(WarmupPlan, plan_id) if is_valid_id(plan_id) else None
    if plan is None:
        raise NotFound("That warm-up plan does not exist (it may have been deleted).")
    return plan


async def _columns(session: AsyncSession, data: Mapping[str, Any], current: WarmupPlan | None) -> Values:
    values = load(PlanInput, data)
    scope = values["scope"]
    target = {
        "smtp_server_id": values.get("smtp_server_id") if scope == "smtp_server" else None,
        "provider_id": values.get("provider_id") if scope == "provider" else None,
        "from_domain": values.get("from_domain") if scope == "from_domain" else None,
    }
    field = next(name for name, value in target.items() if value is not None)  # the schema's rules saw to it
    if field == "smtp_server_id" and target[field] not in await queries.server_names(session):
        raise ValidationFailed({field: "That SMTP server does not exist (it may have been deleted)."})
    if field == "provider_id" and target[field] not in await queries.provider_names(session):
        raise ValidationFailed({field: "That API provider does not exist (it may have been deleted)."})
    taken = await queries.plan_id_for(session, **target)
    if taken is not None and (current is None or taken != current.id):
        other = await get_plan(session, taken)
        raise ValidationFailed({field: f"Warm-up plan “{other.name}” (#{other.id}) already covers it; edit that one."})
    return values | target | {"is_active": values.get("is_active", False)}


async def create_plan(session: AsyncSession, data: Mapping[str, Any]) -> WarmupPlan:
    plan = WarmupPlan(**await _columns(session, data, None))
    session.add(plan)
    await session.flush()
    return plan


async def update_plan(session: AsyncSession, plan_id: int, data: Mapping[str, Any]) -> WarmupPlan:
    plan = await get_plan(session, plan_id)
    for name, value in (await _columns(session, data, plan)).items():
        setattr(plan, name, value)
    await session.flush()
    return plan


async def delete_plan(session: AsyncSession, plan_id: int) -> WarmupPlan:
    plan = await get_plan(session, plan_id)
    await session.delete(plan)
    await session.flush()
    return plan
