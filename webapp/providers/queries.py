"""The providers' SQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.providers.models import Provider


async def providers(session: AsyncSession, *, active_only: bool = False) -> list[Provider]:
    """In the order they are tried: lowest priority first."""
    query = select(Provider).order_by(Provider.priority, Provider.id)
    if active_only:
        query = query.where(Provider.is_active)
    return list(await session.scalars(query))
