"""The organisation's conversion settings: the attribution window and the pixel's signing key,
kept in the settings table under "conversions", the key encrypted (core/secret_box.py). The key is
made the first time it is asked for."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.conversions.schemas import ConversionSettingsIn
from webapp.core import secret_box
from webapp.core.schemas import load
from webapp.settings.service import stored

KEY = "conversions"
DEFAULT_WINDOW_DAYS = 7


async def window_days(session: AsyncSession) -> int:
    return int((await stored.load(session, KEY)).get("window_days", DEFAULT_WINDOW_DAYS))


async def update(session: AsyncSession, data: Mapping[str, Any]) -> None:
    """Save the window from a form (ValidationFailed naming the field)."""
    await save_window_days(session, load(ConversionSettingsIn, data)["window_days"])


async def save_window_days(session: AsyncSession, days: int) -> None:
    await stored.save(session, KEY, {**await stored.load(session, KEY), "window_days": days})


async def snippet_key(session: AsyncSession) -> str:
    """The secret a shop's server signs its pixel URLs with."""
    encrypted = (await stored.load(session, KEY)).get("snippet_key_encrypted")
    return secret_box.decrypt(encrypted.encode()) if encrypted else await replace_snippet_key(session)


async def replace_snippet_key(session: AsyncSession) -> str:
    """A new key: URLs signed with the old one are refused from now on."""
    key = secrets.token_urlsafe(32)
    document = {**await stored.load(session, KEY), "snippet_key_encrypted": secret_box.encrypt(key).decode()}
    await stored.save(session, KEY, document)
    return key
