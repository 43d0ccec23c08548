"""Staff accounts: sign-in, roles, the first admin."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import Principal, Role
from webapp.core.config import SecuritySettings
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.validation import bool_field, is_valid_id, normalize_email, text_field
from webapp.staff.models import User
from webapp.staff.service import login_throttle
from webapp.staff.service.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password

SIGN_IN_FAILED = "Email or password is incorrect."
MAX_PASSWORD_LENGTH = 1000


async def authenticate(
    session: AsyncSession, redis: Redis, settings: SecuritySettings, email: str, password: str, ip: str
) -> User:
    """The user for these credentials, or ValidationFailed with one message for every failure."""
    await login_throttle.check(redis, settings, email, ip)
    user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        await login_throttle.record_failure(redis, settings, email, ip)
        raise ValidationFailed({"email": SIGN_IN_FAILED})
    await login_throttle.record_success(redis, email, ip)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = func.now()
    await session.flush()
    return user


def _validate(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if "email" in data or not partial:
        try:
            values["email"] = normalize_email(data.get("email"))
        except ValueError as exc:
            errors["email"] = str(exc)
    if "name" in data:
        try:
            values["name"] = text_field(data["name"], "Name", 200)
        except ValueError as exc:
            errors["name"] = str(exc)
    if "role" in data or not partial:
        if data.get("role") in [r.value for r in Role]:  # a list, not a set: a repeated field is a list
            values["role"] = data["role"]
        else:
            errors["role"] = "Choose a role: admin, editor or viewer."
    if data.get("password") or not partial:
        password = data.get("password") or ""
        if not isinstance(password, str):
            errors["password"] = "Password must be text."
        elif len(password) < MIN_PASSWORD_LENGTH:
            errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
        elif len(password) > MAX_PASSWORD_LENGTH:
            errors["password"] = f"Use at most {MAX_PASSWORD_LENGTH} characters."
        else:
            values["password_hash"] = hash_password(password)
    if "is_active" in data:
        try:
            values["is_active"] = bool_field(data["is_active"], "Active")
        except ValueError as exc:
            errors["is_active"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return values


async def _check_email_free(session: AsyncSession, email: str, exclude_id: int | None = None) -> None:
    query = select(User.id).where(func.lower(User.email) == email.lower())
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    if await session.scalar(query) is not None:
        raise Conflict(f"A staff account for {email} already exists.", "email")


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.email)))


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


async def create_user(session: AsyncSession, data: Mapping[str, Any]) -> User:
    values = _validate(data, partial=False)
    await _check_email_free(session, values["email"])
    user = User(**values)
    session.add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, user_id: int, data: Mapping[str, Any], acting_user_id: int) -> User:
    user = await get_user(session, user_id)
    values = _validate(data, partial=True)
    if "email" in values:
        await _check_email_free(session, values["email"], user_id)
    demoting_self = user_id == acting_user_id and (
        values.get("role", user.role) != Role.ADMIN.value or values.get("is_active") is False
    )
    if demoting_self:
        raise ValidationFailed({"role": "You cannot remove your own admin rights or deactivate yourself."})
    for name, value in values.items():
        setattr(user, name, value)
    await session.flush()
    return user


async def principal_for_user(session: AsyncSession, user_id: int) -> Principal | None:
    """Who a signed-in session acts as; None once the account is deactivated or deleted."""
    user = await session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None or not user.is_active:
        return None
    return Principal(user.id, user.name or user.email, Role(user.role))


async def ensure_first_admin(session: AsyncSession, email: str) -> str | None:
    """Create an admin with a generated password when there are no users; return that password."""
    if await session.scalar(select(func.count()).select_from(User)):
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
