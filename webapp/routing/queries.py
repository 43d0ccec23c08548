"""Routing's SQL: the rules in the order they are tried, the domain throttles, and each
transport's hourly figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Delivery
from webapp.routing.models import DomainThrottle, RoutingRule, TransportHour


async def rules(session: AsyncSession, *, active_only: bool = False) -> list[RoutingRule]:
    """Lowest position first (tried first), then oldest."""
    query = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)
    if active_only:
        query = query.where(RoutingRule.is_active)
    return list(await session.scalars(query))


async def rules_through(session: AsyncSession, transport: str) -> list[RoutingRule]:
    query = (
        select(RoutingRule)
        .where(RoutingRule.targets.contains([{"transport": transport}]))
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return list(await session.scalars(query))


async def throttles(session: AsyncSession) -> list[DomainThrottle]:
    return list(await session.scalars(select(DomainThrottle).order_by(DomainThrottle.bucket)))


async def save_throttle(session: AsyncSession, bucket: str, per_minute: int) -> None:
    """Insert or change, in one statement (two admins saving the same domain at once)."""
    statement = insert(DomainThrottle).values(bucket=bucket, per_minute=per_minute)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[DomainThrottle.bucket], set_={"per_minute": per_minute})
    )


async def delete_throttle(session: AsyncSession, throttle_id: int) -> bool:
    result = await session.execute(delete(DomainThrottle).where(DomainThrottle.id == throttle_id))
    return bool(getattr(result, "rowcount", 0))


async def transports_of(session: AsyncSession, delivery_ids: Sequence[int]) -> dict[int, str]:
    """The transport key ("smtp:<id>", "provider:<id>") that carried each of these deliveries,
    for those where one is known."""
    rows = await session.execute(
        select(Delivery.id, Delivery.smtp_server_id, Delivery.provider_id).where(
            Delivery.id.in_(delivery_ids), (Delivery.smtp_server_id.is_not(None)) | (Delivery.provider_id.is_not(None))
        )
    )
    return {r.id: f"smtp:{r.smtp_server_id}" if r.smtp_server_id else f"provider:{r.provider_id}" for r in rows}


async def save_hours(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each (transport, hour)'s figures as they stand now, replacing what was copied before."""
    if not rows:
        return
    statement = insert(TransportHour).values(list(rows))
    figures = ("sent", "deferred", "errors", "bounced", "complained", "latency_ms", "timed")
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[TransportHour.transport, TransportHour.hour],
            set_={name: statement.excluded[name] for name in figures},
        )
    )


async def hours_since(session: AsyncSession, since: datetime) -> list[TransportHour]:
    query = (
        select(TransportHour).where(TransportHour.hour >= since).order_by(TransportHour.hour, TransportHour.transport)
    )
    return list(await session.scalars(query))
