"""List lookups with filters (the JSON API's GET /api/lists)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.lists.models import EmailList


async def find_lists(
    session: AsyncSession,
    *,
    list_type: str | None = None,
    created_by: str | None = None,
    is_active: bool | None = None,
    limit: int = 50,
) -> list[EmailList]:
    """Lists by name (case-insensitively, as the unique index orders them), filtered by what is given."""
    query = select(EmailList)
    if list_type is not None:
        query = query.where(EmailList.list_type == list_type)
    if created_by is not None:
        query = query.where(EmailList.created_by == created_by)
    if is_active is not None:
        query = query.where(EmailList.is_active.is_(is_active))
    return list(await session.scalars(query.order_by(func.lower(EmailList.name), EmailList.id).limit(limit)))
