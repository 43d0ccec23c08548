"""API keys: random, shown once, stored as a SHA-256 digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import Principal, Role
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id
from webapp.staff import queries
from webapp.staff.models import ApiKey
from webapp.staff.schemas import ApiKeyCreate

KEY_PREFIX = "mr_"
KEY_BYTES = 32  # 256 random bits
SHOWN_PREFIX_LENGTH = 10  # what the key list shows, so people can tell their keys apart


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, data: Mapping[str, Any], created_by_id: int) -> tuple[ApiKey, str]:
    """The new key and, once only, its plain text."""
    values = load(ApiKeyCreate, data)
    if (same := await queries.key_in_use_named(session, values["name"])) is not None:
        # The audit log and the key list name a key by its name: two alike could not be told apart.
        raise ValidationFailed(
            {"name": f"The key {same.prefix}… in use is named {same.name} already: choose another name."}
        )
    plain = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    key = ApiKey(**values, prefix=plain[:SHOWN_PREFIX_LENGTH], key_hash=_digest(plain), created_by_id=created_by_id)
    session.add(key)
    await session.flush()
    return key, plain


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return await queries.keys_newest_first(session)


async def get_key(session: AsyncSession, key_id: int) -> ApiKey:
    key = await session.get(ApiKey, key_id) if is_valid_id(key_id) else None
    if key is None:
        raise NotFound(f"API key {key_id} does not exist.")
    return key


async def revoke_key(session: AsyncSession, key_id: int) -> None:
    """Conflict for a key revoked already: nothing changes, so nothing is to be recorded as done."""
    key = await get_key(session, key_id)
    if key.revoked_at is not None:
        raise Conflict(f"The key {key.name} was revoked already.")
    key.revoked_at = datetime.now(UTC)
    await session.flush()


async def principal_for_key(session: AsyncSession, plain: str) -> Principal | None:
    """Who a request with this key acts as (None for an unknown or revoked key); notes its use."""
    key = await queries.use_key(session, _digest(plain))
    return None if key is None else Principal(key.id, key.name, Role(key.role), via_api_key=True)
