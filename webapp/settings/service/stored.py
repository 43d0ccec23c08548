"""Settings documents other features keep in the organisation's settings table (e.g. the bounce
mailbox), each under a key of its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.settings import queries


async def load(session: AsyncSession, key: str) -> dict[str, Any]:
    """The saved document, or {} if it was never saved."""
    return dict(await queries.setting(session, key) or {})


async def save(session: AsyncSession, key: str, value: dict[str, Any]) -> None:
    await queries.save_setting(session, key, value)
