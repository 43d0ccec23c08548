"""Finding lists: by filters (the JSON API, the campaign wizard), by name, by member, by type."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.cursors import Part, decode_cursor, encode_cursor
from webapp.lists.models import EmailList, ListMember, ListType

LIST_KEY = (Part.TEXT, Part.ID)  # lower(name), id


@dataclass(frozen=True)
class ListPage:
    lists: list[EmailList]
    next_cursor: str | None


def is_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *LIST_KEY) is not None


async def find_lists(
    session: AsyncSession,
    *,
    list_type: str | None = None,
    created_by: str | None = None,
    is_active: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ListPage:
    """Lists by name (case-insensitively, as the unique index orders them), then id, filtered by what
    is given; the page after `cursor`."""
    order = (func.lower(EmailList.name), EmailList.id)
    query = select(EmailList)
    if list_type is not None:
        query = query.where(EmailList.list_type == list_type)
    if created_by is not None:
        query = query.where(EmailList.created_by == created_by)
    if is_active is not None:
        query = query.where(EmailList.is_active.is_(is_active))
    if after := decode_cursor(cursor, *LIST_KEY):
        query = query.where(tuple_(*order) > tuple_(*after))
    rows = list(await session.scalars(query.order_by(*order).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    return ListPage(rows, encode_cursor(rows[-1].name.lower(), rows[-1].id) if more and rows else None)


async def all_lists(session: AsyncSession, *, active_only: bool = False) -> list[EmailList]:
    query = select(EmailList).order_by(EmailList.name)
    if active_only:
        query = query.where(EmailList.is_active)
    return list(await session.scalars(query))


async def count_active(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(EmailList).where(EmailList.is_active)) or 0


async def id_by_name(session: AsyncSession, name: str, exclude_id: int | None = None) -> int | None:
    """The list that has this name, compared as the unique index on lower(name) compares it."""
    query = select(EmailList.id).where(func.lower(EmailList.name) == name.lower())
    if exclude_id is not None:
        query = query.where(EmailList.id != exclude_id)
    return await session.scalar(query)


async def static_ids(session: AsyncSession, list_ids: Collection[int]) -> set[int]:
    """Which of these ids are static lists."""
    query = select(EmailList.id).where(EmailList.id.in_(list_ids), EmailList.list_type == ListType.STATIC.value)
    return set(await session.scalars(query))


async def segments_of(session: AsyncSession, list_id: int) -> list[EmailList]:
    """The segments made of this list (it is their parent), by name."""
    query = select(EmailList).where(EmailList.parent_list_id == list_id).order_by(EmailList.name)
    return list(await session.scalars(query))


async def lists_of_contact(session: AsyncSession, contact_id: int) -> list[EmailList]:
    query = (
        select(EmailList)
        .join(ListMember, ListMember.list_id == EmailList.id)
        .where(ListMember.contact_id == contact_id)
        .order_by(EmailList.name)
    )
    return list(await session.scalars(query))
