"""What every staff member changes on their own account page: their name, and their password,
which takes the current one first. A wrong current password counts as a failed sign-in (and is
refused like one past the limit), so a session left open on a shared screen cannot be used to
guess it and lock its owner out."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.config import SecuritySettings
from webapp.core.errors import ValidationFailed
from webapp.core.schemas import load
from webapp.staff.models import User
from webapp.staff.schemas import UserUpdate
from webapp.staff.service import login_throttle
from webapp.staff.service.passwords import check_unguessable, hash_password, verify_password
from webapp.staff.service.users import get_user

WRONG_PASSWORD = "That is not your current password."
SAME_PASSWORD = "That is your current password: choose a new one."
PASSWORDS_DIFFER = "The two new passwords differ: type the same one twice."


async def rename(session: AsyncSession, user_id: int, name: str) -> User:
    user = await get_user(session, user_id)
    user.name = load(UserUpdate, {"name": name}, partial=True)["name"]
    await session.flush()
    return user


async def sign_out_elsewhere(session: AsyncSession, user_id: int) -> User:
    """End every session of the account but the one the caller renews with the returned account's
    stamp, every password-reset link, and every browser remembered for two-step sign-in."""
    user = await get_user(session, user_id)
    user.session_epoch += 1
    await session.flush()
    return user


async def change_password(
    session: AsyncSession,
    redis: Redis,
    settings: SecuritySettings,
    user_id: int,
    passwords: tuple[str, str, str],  # current, new, the new one again
    ip: str,
) -> User:
    """The account with its new password; ValidationFailed naming the field otherwise."""
    current, new, again = passwords
    user = await confirmed(session, redis, settings, user_id, current, ip)
    if new == current:
        raise ValidationFailed({"password": SAME_PASSWORD})
    return await set_password(session, user, new, again)


async def confirmed(
    session: AsyncSession, redis: Redis, settings: SecuritySettings, user_id: int, password: str, ip: str
) -> User:
    """The account, once `password` is its current one; ValidationFailed naming current_password
    otherwise, counted as a failed sign-in (TooManyAttempts past the limit)."""
    user = await get_user(session, user_id)
    await login_throttle.check(redis, settings, user.email, ip)
    if not verify_password(user.password_hash, password):
        await login_throttle.record_failure(redis, settings, user.email, ip)
        raise ValidationFailed({"current_password": WRONG_PASSWORD})
    return user


async def set_password(session: AsyncSession, user: User, new: str, again: str) -> User:
    """A new password typed twice; ValidationFailed naming the field when it is refused."""
    load(UserUpdate, {"password": new}, partial=True)  # the rules every password keeps
    check_unguessable(new, [user.email, user.name])
    if new != again:
        raise ValidationFailed({"password_confirm": PASSWORDS_DIFFER})
    user.password_hash = hash_password(new)
    await session.flush()
    return user
