"""Staff accounts and API keys: look-ups by address (any case) and by key digest, and the lists
the admin pages show."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.staff.models import ApiKey, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    """The account with this address in any case (uq_users_email_lower)."""
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def user_id_by_email(session: AsyncSession, email: str, exclude_id: int | None = None) -> int | None:
    query = select(User.id).where(func.lower(User.email) == email.lower())
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    return await session.scalar(query)


async def users_by_email(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.email)))


async def has_users(session: AsyncSession) -> bool:
    return await session.scalar(select(User.id).limit(1)) is not None


async def keys_newest_first(session: AsyncSession) -> list[ApiKey]:
    """Keys in use first, then revoked ones; newest first within each."""
    return list(
        await session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc()))
    )


async def key_in_use_named(session: AsyncSession, name: str) -> ApiKey | None:
    query = select(ApiKey).where(func.lower(ApiKey.name) == name.lower(), ApiKey.revoked_at.is_(None)).limit(1)
    return await session.scalar(query)


async def use_key(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """The key with this digest unless it is revoked, its use noted in the same statement."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        .values(last_used_at=func.now())
        .returning(ApiKey)
    )
    return result.scalar_one_or_none()
