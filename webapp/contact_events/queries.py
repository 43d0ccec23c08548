"""The SQL of custom events: store a batch at once, read a contact's latest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contact_events.models import ContactEvent


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[ContactEvent]:
    """Store the events whose client key is not stored yet (events without a key always are), in
    one statement for the batch; the stored ones."""
    inserted = await session.scalars(
        insert(ContactEvent)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["client_key"], index_where=text("client_key IS NOT NULL"))
        .returning(ContactEvent)
    )
    return list(inserted)


async def by_client_key(session: AsyncSession, client_key: str) -> ContactEvent | None:
    return await session.scalar(select(ContactEvent).where(ContactEvent.client_key == client_key))


async def of_contact(session: AsyncSession, contact_id: int) -> list[ContactEvent]:
    """Every event of the contact, oldest first (their data export)."""
    found = await session.scalars(
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.occurred_at, ContactEvent.id)
    )
    return list(found)


async def recent(
    session: AsyncSession, contact_id: int, limit: int, before: tuple[datetime, int] | None = None
) -> list[ContactEvent]:
    """The contact's latest events first, older than `before` (occurred_at, id) when given, from
    ix_contact_events_contact_id_occurred_at."""
    query = select(ContactEvent).where(ContactEvent.contact_id == contact_id)
    if before is not None:
        query = query.where(tuple_(ContactEvent.occurred_at, ContactEvent.id) < tuple_(*before))
    found = await session.scalars(query.order_by(ContactEvent.occurred_at.desc(), ContactEvent.id.desc()).limit(limit))
    return list(found)
