"""Counting and sampling the contacts a segment predicate matches (see service/segments.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact


async def count(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    return await session.scalar(select(func.count()).select_from(Contact).where(condition)) or 0


async def first_matching(session: AsyncSession, condition: ColumnElement[bool], limit: int) -> list[Contact]:
    """The newest matches first, as on the contacts page."""
    query = select(Contact).where(condition).order_by(Contact.date_added.desc(), Contact.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def database_now(session: AsyncSession) -> datetime:
    """The transaction's time on the database's clock, the one its own timestamps (updated_at) use."""
    now: datetime = (await session.execute(select(func.now()))).scalar_one()
    return now
