"""Warm-up plans: their rules and storage. One plan per SMTP server and per From domain; the
server must exist. See schedule.py (days and maxima), quota.py (what the send engine counts),
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


async def get_plan(session: AsyncSession, plan_id: int) -> WarmupPlan:
    plan = await session.get(WarmupPlan, plan_id) if is_valid_id(plan_id) else None
    if plan is None:
        raise NotFound("That warm-up plan does not exist (it may have been deleted).")
    return plan


async def _columns(session: AsyncSession, data: Mapping[str, Any], current: WarmupPlan | None) -> Values:
    values = load(PlanInput, data)
    server_id = values.get("smtp_server_id") if values["scope"] == "smtp_server" else None
    domain = values.get("from_domain") if values["scope"] == "from_domain" else None
    if server_id is not None and server_id not in await queries.server_names(session):
        raise ValidationFailed({"smtp_server_id": "That SMTP server does not exist (it may have been deleted)."})
    taken = await queries.plan_id_for(session, smtp_server_id=server_id, from_domain=domain)
    if taken is not None and (current is None or taken != current.id):
        field = "smtp_server_id" if server_id is not None else "from_domain"
        raise ValidationFailed({field: "Another warm-up plan already covers it; edit that one."})
    values |= {"smtp_server_id": server_id, "from_domain": domain, "is_active": values.get("is_active", False)}
    return values


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
