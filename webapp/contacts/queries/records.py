"""Single contacts and bulk changes to ticked ones: address look-ups, tags, deletion."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.core.db import rows_changed


async def id_by_email(session: AsyncSession, email: str, exclude_id: int | None = None) -> int | None:
    """The contact with this address in any case (uq_contacts_email_lower), other than exclude_id."""
    query = select(Contact.id).where(func.lower(Contact.email) == email.lower())
    if exclude_id is not None:
        query = query.where(Contact.id != exclude_id)
    return await session.scalar(query)


async def delete_many(session: AsyncSession, contact_ids: Sequence[int]) -> int:
    result = await session.execute(delete(Contact).where(Contact.id.in_(contact_ids)))
    return rows_changed(result)


async def add_tag(session: AsyncSession, contact_ids: Sequence[int], tag: str) -> int:
    """Tag the contacts that do not have it yet; returns how many changed."""
    result = await session.execute(
        update(Contact)
        .where(Contact.id.in_(contact_ids), ~Contact.tags.contains([tag]))
        .values(tags=func.array_append(Contact.tags, tag), last_updated=func.now())
    )
    return rows_changed(result)


async def remove_tag(session: AsyncSession, contact_ids: Sequence[int], tag: str) -> int:
    result = await session.execute(
        update(Contact)
        .where(Contact.id.in_(contact_ids), Contact.tags.contains([tag]))
        .values(tags=func.array_remove(Contact.tags, tag), last_updated=func.now())
    )
    return rows_changed(result)
