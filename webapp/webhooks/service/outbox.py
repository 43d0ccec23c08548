"""Emitting events: one outbox row per subscribed active endpoint, written in the caller's
transaction (so an event is sent if and only if what caused it was committed), and never waiting
on a receiver: workers send the rows (service/sending.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.webhooks import queries
from webapp.webhooks.schemas import EVENT_TYPES


async def emit(session: AsyncSession, event_type: str, data: Mapping[str, Any]) -> None:
    """One event, e.g. emit(session, "email.opened", {"campaign_id": 3, "contact_id": 9, ...})."""
    await emit_many(session, event_type, [data])


async def subscribed(session: AsyncSession, event_types: Sequence[str]) -> set[str]:
    """Which of these event types some active endpoint wants: a producer of many events skips
    building them when nobody listens."""
    return await queries.subscribed(session, event_types)


async def emit_many(session: AsyncSession, event_type: str, items: Sequence[Mapping[str, Any]]) -> None:
    """Many events of one type in one statement (a send batch's messages, a bulk change)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if items:
        await queries.enqueue(session, event_type, _events(items))


async def emit_to_endpoint(
    session: AsyncSession, endpoint_id: int, event_type: str, items: Sequence[Mapping[str, Any]]
) -> None:
    """Events for one endpoint that a person chose (an automation's webhook step), whatever event
    types it subscribed to; sent, signed and checked against the SSRF rule like every other."""
    if items:
        await queries.enqueue_to(session, endpoint_id, event_type, _events(items))


def _events(items: Sequence[Mapping[str, Any]]) -> list[tuple[uuid.UUID, str]]:
    return [(uuid.uuid4(), msgspec.json.encode(dict(item)).decode()) for item in items]
