"""The audit log's SQL: one insert per event, pages newest first (keyset on occurred_at, id, read
from the index each filter has), the values the filters offer (a skip scan of those indexes, not a
DISTINCT over the table) and pruning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.audit.models import AuditEvent
from webapp.core.db import rows_changed
from webapp.core.queries import newest_first


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
    events, next_cursor = await newest_first(
        session, query, AuditEvent.occurred_at, AuditEvent.id, limit=limit, cursor=cursor
    )
    return AuditPage(events, next_cursor)


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
