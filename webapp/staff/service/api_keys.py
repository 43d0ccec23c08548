"""API keys: random, shown once, stored as a SHA-256 digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import Principal, Role
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.validation import is_valid_id, text_field
from webapp.staff.models import ApiKey

KEY_PREFIX = "mr_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, data: Mapping[str, Any], created_by_id: int) -> tuple[ApiKey, str]:
    errors: dict[str, str] = {}
    try:
        name = text_field(data.get("name"), "Name", 200)
        if not name:
            errors["name"] = "Give the key a name that says who uses it."
    except ValueError as exc:
        errors["name"] = str(exc)
    role = data.get("role") or Role.EDITOR.value
    if role not in [Role.VIEWER.value, Role.EDITOR.value]:  # a list: an unhashable value must not raise
        errors["role"] = "API keys are editor (read and write) or viewer (read only)."
    if errors:
        raise ValidationFailed(errors)
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=plain[:10], key_hash=_digest(plain), role=role, created_by_id=created_by_id)
    session.add(key)
    await session.flush()
    return key, plain


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list(
        await session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc()))
    )


async def get_key(session: AsyncSession, key_id: int) -> ApiKey:
    key = await session.get(ApiKey, key_id) if is_valid_id(key_id) else None
    if key is None:
        raise NotFound(f"API key {key_id} does not exist.")
    return key


async def revoke_key(session: AsyncSession, key_id: int) -> None:
    key = await get_key(session, key_id)
    if key.revoked_at is None:
        key.revoked_at = func.now()
    await session.flush()


async def principal_for_key(session: AsyncSession, plain: str) -> Principal | None:
    """Who a request with this key acts as (None for an unknown or revoked key); notes its use."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.key_hash == _digest(plain), ApiKey.revoked_at.is_(None))
        .values(last_used_at=func.now())
        .returning(ApiKey)
    )
    key = result.scalar_one_or_none()
    return None if key is None else Principal(key.id, key.name, Role(key.role), via_api_key=True)
