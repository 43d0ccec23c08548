"""The audit log's SQL: one insert per event, pages newest first (keyset on occurred_at, id, read
from the index each filter has), the values the filters offer (a skip scan of those indexes, not a
DISTINCT over the table) and pruning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.audit.models import AuditEvent
from webapp.core.cursors import Part, decode_cursor, encode_cursor
from webapp.core.db import rows_changed

KEY = (Part.TIME, Part.ID)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(AuditEvent).values(**values))


async def newest(
    session: AsyncSession, *, actor: str | None, area: str | None, limit: int, cursor: str | None
) -> AuditPage:
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if area:
        query = query.where(AuditEvent.area == area)
    if after := decode_cursor(cursor, *KEY):
        query = query.where(tuple_(AuditEvent.occurred_at, AuditEvent.id) < tuple_(*after))
    order = (AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    rows = list(await session.scalars(query.order_by(*order).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return AuditPage(rows, encode_cursor(last.occurred_at, last.id) if more and last else None)


async def distinct(session: AsyncSession, column: str) -> list[str]:
    """Every value of `column` (actor or area), each found by one index probe."""
    if column not in ("actor", "area"):
        raise ValueError(column)
    rows = await session.scalars(
        text(f"""WITH RECURSIVE found(value) AS (
                    SELECT min({column}) FROM audit_events
                    UNION ALL
                    SELECT (SELECT min({column}) FROM audit_events WHERE {column} > found.value)
                    FROM found WHERE found.value IS NOT NULL)
                 SELECT value FROM found WHERE value IS NOT NULL""")
    )
    return list(rows)


async def prune(session: AsyncSession, before: datetime) -> int:
    return rows_changed(await session.execute(delete(AuditEvent).where(AuditEvent.occurred_at < before)))
