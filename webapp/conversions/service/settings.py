"""The organisation's conversion settings: the attribution window and the pixel's signing key,
kept in the settings table under "conversions". The key is made the first time it is asked for."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.settings.service import stored

KEY = "conversions"
DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 90


async def _load(session: AsyncSession) -> dict[str, Any]:
    return await stored.load(session, KEY)


async def window_days(session: AsyncSession) -> int:
    return int((await _load(session)).get("window_days", DEFAULT_WINDOW_DAYS))


async def save_window_days(session: AsyncSession, days: int) -> None:
    await stored.save(session, KEY, {**await _load(session), "window_days": days})


async def snippet_key(session: AsyncSession) -> str:
    """The secret a shop's server signs its pixel URLs with."""
    saved = await _load(session)
    if not saved.get("snippet_key"):
        saved["snippet_key"] = secrets.token_urlsafe(32)
        await stored.save(session, KEY, saved)
    return str(saved["snippet_key"])
