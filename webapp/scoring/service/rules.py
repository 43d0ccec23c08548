"""Scoring rules: what earns (or costs) points. A change counts from the next recompute of a
contact (their next event, or the nightly recompute, or "Recalculate" now)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound
from webapp.core.schemas import load
from webapp.scoring.models import ScoringRule
from webapp.scoring.queries import rules as queries
from webapp.scoring.schemas import RuleIn


async def all_rules(session: AsyncSession) -> list[ScoringRule]:
    return await queries.all_rules(session)


async def get(session: AsyncSession, rule_id: int) -> ScoringRule:
    rule = await queries.get(session, rule_id)
    if rule is None:
        raise NotFound(f"Scoring rule {rule_id} does not exist.")
    return rule


async def create(session: AsyncSession, data: Mapping[str, Any]) -> ScoringRule:
    return await queries.insert(session, _cleaned(load(RuleIn, data)))


async def update(session: AsyncSession, rule_id: int, data: Mapping[str, Any]) -> ScoringRule:
    """Change the fields sent (the rules between fields are checked on the rule as it would be)."""
    rule = await get(session, rule_id)
    current = {
        "name": rule.name,
        "event": rule.event,
        "event_name": rule.event_name,
        "link_url": rule.link_url,
        "points": rule.points,
        "daily_limit": rule.daily_limit,
        "enabled": rule.enabled,
    }
    values = _cleaned(load(RuleIn, {**current, **data}))
    await queries.change(session, rule_id, values)
    await session.refresh(rule)
    return rule


async def delete(session: AsyncSession, rule_id: int) -> None:
    await get(session, rule_id)
    await queries.remove(session, rule_id)


def _cleaned(values: dict[str, Any]) -> dict[str, Any]:
    """Every column, with the optional ones None when not sent."""
    return {
        "event_name": None,
        "link_url": None,
        "daily_limit": None,
        "enabled": True,
        **values,
    }
