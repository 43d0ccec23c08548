"""Counts for the staff pages: contacts per automation (queries/stats.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.queries import stats as queries
from webapp.automations.queries.stats import Totals

__all__ = ["Totals", "contact_emails", "totals"]


async def totals(session: AsyncSession, automation_ids: Sequence[int]) -> dict[int, Totals]:
    return await queries.totals(session, automation_ids) if automation_ids else {}


async def contact_emails(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, str]:
    return await queries.emails(session, contact_ids) if contact_ids else {}
