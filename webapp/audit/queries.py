"""The audit log's SQL: one insert per event, pages newest first (keyset on occurred_at, id, read
from the index each filter has), the values the filters offer (a skip scan of those indexes, not a
DISTINCT over the table) and pruning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.audit.models import AuditEvent
from webapp.core.db import rows_changed
from webapp.core.queries import newest_first
from webapp.staff.models import ApiKey, User


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(AuditEvent).values(**values))


@dataclass(frozen=True)
class Account:
    """Whom the log can be filtered by: a staff account or an API key, as named now."""

    value: str  # user:<id> or key:<id>, the filter's value
    label: str


async def newest(
    session: AsyncSession,
    *,
    user_id: int | None,
    api_key_id: int | None,
    area: str | None,
    limit: int,
    cursor: str | None,
) -> AuditPage:
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if api_key_id is not None:
        query = query.where(AuditEvent.api_key_id == api_key_id)
    if area:
        query = query.where(AuditEvent.area == area)
    events, next_cursor = await newest_first(
        session, query, AuditEvent.occurred_at, AuditEvent.id, limit=limit, cursor=cursor
    )
    return AuditPage(events, next_cursor)


AREAS = text("""WITH RECURSIVE found(value) AS (
                    SELECT min(area) FROM audit_events
                    UNION ALL
                    SELECT (SELECT min(area) FROM audit_events WHERE area > found.value)
                    FROM found WHERE found.value IS NOT NULL)
                 SELECT value FROM found WHERE value IS NOT NULL""")


async def areas(session: AsyncSession) -> list[str]:
    """Every area the log holds, each found by one index probe."""
    return list(await session.scalars(AREAS))


async def accounts(session: AsyncSession) -> list[Account]:
    """Every staff account by name, then every API key by name (a revoked one says so)."""
    people = await session.execute(select(User.id, User.name, User.email).order_by(func.lower(User.name), User.id))
    keys = await session.execute(select(ApiKey.id, ApiKey.name, ApiKey.revoked_at).order_by(func.lower(ApiKey.name)))
    return [
        Account(f"user:{i}", f"{name} <{email}>" if name and name != email else email) for i, name, email in people
    ] + [Account(f"key:{i}", f"api:{name}" + (" (revoked)" if revoked else "")) for i, name, revoked in keys]


async def prune(session: AsyncSession, before: datetime) -> int:
    return rows_changed(await session.execute(delete(AuditEvent).where(AuditEvent.occurred_at < before)))
