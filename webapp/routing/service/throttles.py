"""The per-recipient-domain throttles admins keep (the limiter itself: domain_rates.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id
from webapp.routing import queries
from webapp.routing.models import DomainThrottle
from webapp.routing.schemas import ThrottleInput


async def list_throttles(session: AsyncSession) -> list[DomainThrottle]:
    return await queries.throttles(session)


async def limits(session: AsyncSession) -> dict[str, int]:
    """Messages per minute by domain or group, as the limiter takes them."""
    return {t.bucket: t.per_minute for t in await queries.throttles(session)}


async def save_throttle(session: AsyncSession, data: Mapping[str, Any]) -> None:
    """Set the limit of a domain or group (replacing the one it had)."""
    values = load(ThrottleInput, data)
    await queries.save_throttle(session, values["bucket"], values["per_minute"])


async def delete_throttle(session: AsyncSession, throttle_id: int) -> None:
    if not (is_valid_id(throttle_id) and await queries.delete_throttle(session, throttle_id)):
        raise NotFound("That throttle does not exist (it may have been deleted).")
