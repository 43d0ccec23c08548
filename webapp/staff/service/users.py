"""Staff accounts: sign-in, roles, the first admin."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import Principal, Role
from webapp.core.config import SecuritySettings, get_settings
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.redis import get_redis
from webapp.core.schemas import Values, load
from webapp.core.tokens import purpose_key
from webapp.core.validation import is_valid_id, normalize_email
from webapp.staff import queries
from webapp.staff.models import User
from webapp.staff.schemas import UserCreate, UserUpdate
from webapp.staff.service import login_throttle, sign_in_policy, signed_in
from webapp.staff.service.passwords import check_unguessable, hash_password, needs_rehash, verify_password

SIGN_IN_FAILED = "Email or password is incorrect."


async def authenticate(
    session: AsyncSession, redis: Redis, settings: SecuritySettings, email: str, password: str, ip: str
) -> User:
    """The user for these credentials, or ValidationFailed with one message for every failure."""
    await login_throttle.check(redis, settings, email, ip)
    user = await queries.user_by_email(session, email.strip())
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        await login_throttle.record_failure(redis, settings, email, ip)
        raise ValidationFailed({"email": SIGN_IN_FAILED})
    await login_throttle.record_success(redis, email, ip)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    await session.flush()
    return user


def _columns(values: Values, user: User | None = None) -> Values:
    """The account's columns: the password, once it is found hard to guess, kept only as its hash."""
    if "password" in values:
        password = values.pop("password")
        email, name = values.get("email", user and user.email), values.get("name", user and user.name)
        check_unguessable(password, [email, name])
        values["password_hash"] = hash_password(password)
    return values


async def _check_email_free(session: AsyncSession, email: str, exclude_id: int | None = None) -> None:
    if await queries.user_id_by_email(session, email, exclude_id) is not None:
        raise Conflict(f"A staff account for {email} already exists.", "email")


async def id_by_email(session: AsyncSession, email: str) -> int | None:
    """The account with this address (any case), if there is one."""
    return await queries.user_id_by_email(session, email.strip()) if email.strip() else None


async def list_users(session: AsyncSession) -> list[User]:
    return await queries.users_by_email(session)


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


async def email_of(session: AsyncSession, user_id: int) -> str:
    """The account's address, or "" once it is gone (e.g. a test send's default recipient)."""
    user = await session.get(User, user_id) if is_valid_id(user_id) else None
    return user.email if user else ""


async def create_user(session: AsyncSession, data: Mapping[str, Any]) -> User:
    values = _columns(load(UserCreate, data))
    await _check_email_free(session, values["email"])
    user = User(**values)
    session.add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, user_id: int, data: Mapping[str, Any], acting_user_id: int) -> User:
    user = await get_user(session, user_id)
    values = _columns(load(UserUpdate, data, partial=True), user)
    if "email" in values:
        await _check_email_free(session, values["email"], user_id)
    demoting_self = user_id == acting_user_id and (
        values.get("role", user.role) != Role.ADMIN.value or values.get("is_active") is False
    )
    if demoting_self:
        raise ValidationFailed({"role": "You cannot remove your own admin rights or deactivate yourself."})
    if user.is_active and values.get("is_active") is False:
        user.session_epoch += 1  # its sessions end for good, not only while it is inactive
    for name, value in values.items():
        setattr(user, name, value)
    await session.flush()
    return user


def password_stamp(user: User) -> str:
    # Derived from the password hash, as Django does: a new password (even the same one, which gets
    # a new salt) makes every earlier stamp stale. So does a rehash at sign-in with stronger argon2
    # parameters, which ends the user's other sessions once; that is rare and errs on the safe side.
    # Signing out everywhere raises the epoch; at 0 the stamp is the one sessions had before epochs.
    signed = user.password_hash if not user.session_epoch else f"{user.password_hash}:{user.session_epoch}"
    return hmac.new(purpose_key("staff-session"), signed.encode(), hashlib.sha256).hexdigest()


def session_for(user: User) -> dict[str, Any]:
    """What a staff session holds once the user signs in: who, and a stamp of their password, so
    that changing the password ends every session signed in with the old one."""
    return {"user_id": user.id, "password_stamp": password_stamp(user)}


async def principal_for_session(session: AsyncSession, data: Mapping[str, Any]) -> Principal | None:
    """Who a signed-in session acts as; None once the account is deactivated or deleted, its
    password changed after this session signed in, or the session was ended from the account page."""
    user_id, stamp = data.get("user_id"), data.get("password_stamp")
    user = await session.get(User, user_id) if isinstance(user_id, int) and is_valid_id(user_id) else None
    if user is None or not user.is_active or not isinstance(stamp, str):
        return None
    if not hmac.compare_digest(stamp, password_stamp(user)):
        return None
    handle = data.get(signed_in.HANDLE)
    max_age = get_settings().security.session_max_age
    if handle is not None and not await signed_in.still_open(get_redis(), user.id, str(handle), max_age):
        return None
    due = not user.two_step and await sign_in_policy.two_step_required(session)
    return Principal(user.id, principal_name(user), Role(user.role), two_step_due=due, email=user.email)


def principal_name(user: User) -> str:
    """How the app names the person: their name, or their address until they give one."""
    return user.name or user.email


async def ensure_first_admin(session: AsyncSession, email: str) -> str | None:
    """Create an admin with a generated password when there are no users; return that password."""
    if await queries.has_users(session):
        return None
    password = secrets.token_urlsafe(12)
    session.add(
        User(
            email=normalize_email(email),
            name="Administrator",
            role=Role.ADMIN.value,
            password_hash=hash_password(password),
        )
    )
    await session.flush()
    return password
