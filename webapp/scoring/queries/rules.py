"""The SQL of scoring rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.scoring.models import ScoringRule


async def all_rules(session: AsyncSession) -> list[ScoringRule]:
    return list(await session.scalars(select(ScoringRule).order_by(ScoringRule.id)))


async def get(session: AsyncSession, rule_id: int) -> ScoringRule | None:
    return await session.get(ScoringRule, rule_id)


async def insert(session: AsyncSession, values: dict[str, Any]) -> ScoringRule:
    rule = ScoringRule(**values)
    session.add(rule)
    await session.flush()
    return rule


async def change(session: AsyncSession, rule_id: int, values: dict[str, Any]) -> None:
    await session.execute(update(ScoringRule).where(ScoringRule.id == rule_id).values(**values, updated_at=func.now()))


async def remove(session: AsyncSession, rule_id: int) -> None:
    await session.execute(delete(ScoringRule).where(ScoringRule.id == rule_id))
