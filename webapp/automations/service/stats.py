"""Counts for the staff pages: contacts per automation and per step (queries/stats.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.queries import stats as queries
from webapp.automations.queries.stats import StepCounts, Totals

__all__ = ["StepCounts", "Totals", "contact_emails", "step_counts", "totals"]


async def totals(session: AsyncSession, automation_ids: Sequence[int]) -> dict[int, Totals]:
    return await queries.totals(session, automation_ids) if automation_ids else {}


async def step_counts(session: AsyncSession, automation_id: int) -> dict[str, StepCounts]:
    return await queries.step_counts(session, automation_id)


async def contact_emails(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, str]:
    return await queries.emails(session, contact_ids) if contact_ids else {}
