"""A forgotten staff password: a link by email to choose a new one.

The link is signed and holds the account and a stamp of its password (users.password_stamp), so it
works once (the new password changes the stamp), for RESET_LINK_SECONDS, and only while the account
is active. Asking answers the same whether or not the address has an account; an account gets at
most one email per ACCOUNT_GAP_SECONDS, and one address (IP) may ask IP_LIMIT times an hour."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, URLSafeTimedSerializer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound, TooManyAttempts, ValidationFailed
from webapp.core.tokens import purpose_key
from webapp.core.validation import is_valid_id, normalize_email
from webapp.staff import queries
from webapp.staff.models import User
from webapp.staff.service.account import set_password
from webapp.staff.service.users import password_stamp

RESET_LINK_SECONDS = 3600
ACCOUNT_GAP_SECONDS = 120
IP_LIMIT, IP_WINDOW_SECONDS = 10, 3600
TOO_MANY = "Too many requests for password links from here. Try again in an hour."
LINK_EXPIRED = "This link has expired or was used already. Ask for a new one below."


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(purpose_key("staff-password-reset"), salt="mailroom-password-reset")


def reset_token(user: User) -> str:
    return _serializer().dumps([user.id, password_stamp(user)])


async def account_to_mail(session: AsyncSession, redis: Redis, email: str, ip: str) -> User | None:
    """The active account a reset link goes to for this address, if any and not mailed just now;
    ValidationFailed for what is no address, TooManyAttempts past the IP's limit."""
    ip_key = f"password-reset:ip:{ip}"
    asked = await redis.incr(ip_key)
    if asked == 1:
        await redis.expire(ip_key, IP_WINDOW_SECONDS)
    if asked > IP_LIMIT:
        raise TooManyAttempts(TOO_MANY, IP_WINDOW_SECONDS)
    try:
        address = normalize_email(email)
    except ValueError as exc:
        raise ValidationFailed({"email": str(exc)}) from None
    user = await queries.user_by_email(session, address)
    if user is None or not user.is_active:
        return None
    account = hashlib.sha256(user.email.lower().encode()).hexdigest()
    if not await redis.set(f"password-reset:account:{account}", 1, nx=True, ex=ACCOUNT_GAP_SECONDS):
        return None
    return user


async def account_of(session: AsyncSession, token: str) -> User:
    """The account a link resets; NotFound(LINK_EXPIRED) for one forged, expired, used or of an
    account deactivated since."""
    try:
        user_id, stamp = _serializer().loads(token, max_age=RESET_LINK_SECONDS)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(LINK_EXPIRED) from None
    user = await session.get(User, user_id) if isinstance(user_id, int) and is_valid_id(user_id) else None
    if user is None or not user.is_active or stamp != password_stamp(user):
        raise NotFound(LINK_EXPIRED)
    return user


async def reset(session: AsyncSession, token: str, new: str, again: str) -> User:
    """The account with the password chosen; NotFound for a link that no longer works,
    ValidationFailed naming the field for a password refused."""
    return await set_password(session, await account_of(session, token), new, again)
