"""Two-step sign-in for staff: after the password, a six-digit code from an authenticator app (TOTP,
RFC 6238: 30-second steps, the step before and after accepted for clocks that differ a little), or
one of ten recovery codes, each of which works once.

No code works twice: the last time step a code was used in is kept, and only later steps count, so
a code seen over someone's shoulder is spent. Wrong codes count against the account (its own count,
which a right password does not reset) and the IP, as failed sign-ins do. The secret is encrypted at
rest (core/secret_box.py); recovery codes are kept as SHA-256 hashes (they are random,
about 50 bits each, so a slow hash adds nothing)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.config import SecuritySettings
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.tokens import purpose_key
from webapp.core.validation import is_valid_id
from webapp.staff.models import User
from webapp.staff.service import login_throttle
from webapp.staff.service.users import get_user, password_stamp

ISSUER = "Mailroom"
RECOVERY_CODES = 10
STEPS_ACCEPTED = (-1, 0, 1)  # around now
WRONG_CODE = "That code is not right: type the six digits the app shows now, or one of your recovery codes."
NOT_A_SETUP_CODE = "That code is not right: type the six digits the app shows now."
CODE = re.compile(r"[0-9]{6}")
REMEMBER_DAYS = 30


def remembered_browser(user: User, days: int = REMEMBER_DAYS) -> str:
    """What a browser keeps (a cookie) so that it is not asked for a code at sign-in for `days`:
    the account, until when, and a MAC over both and the account's session stamp (its password,
    and how often its owner signed out everywhere) and two-step secret, so a new password, signing
    out everywhere or two-step set up again forgets every browser."""
    until = int(time.time()) + days * 86400
    return f"{user.id}.{until}.{_browser_mac(user, until)}"


def remembers(user: User, kept: str | None) -> bool:
    """Whether a browser's cookie still spares this account the code."""
    user_id, _, rest = (kept or "").partition(".")
    until, _, mac = rest.partition(".")
    if user_id != str(user.id) or not until.isdigit() or int(until) < time.time():
        return False
    return hmac.compare_digest(mac, _browser_mac(user, int(until)))


def _browser_mac(user: User, until: int) -> str:
    secret = bytes(user.totp_secret_encrypted or b"")
    message = f"{user.id}.{until}.{password_stamp(user)}.".encode() + hashlib.sha256(secret).digest()
    return hmac.new(purpose_key("two-step-browser"), message, hashlib.sha256).hexdigest()


def new_secret() -> str:
    return pyotp.random_base32()


def setup_uri(secret: str, email: str) -> str:
    """What the QR code holds: an otpauth:// URI an authenticator app adds the account from."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=5, border=2, title="QR code for your authenticator app"))


def _tidy(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step around now whose code this is, if it is later than the last one used."""
    code = _tidy(code)
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in (now + offset for offset in STEPS_ACCEPTED):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(_tidy(code).encode()).hexdigest()


def _recovery_codes() -> list[str]:
    """Ten codes like 7kq2m-x4pta: lowercase letters and digits without look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"

    def half() -> str:
        return "".join(secrets.choice(alphabet) for _ in range(5))

    return [f"{half()}-{half()}" for _ in range(RECOVERY_CODES)]


async def turn_on(session: AsyncSession, user_id: int, secret: str, code: str) -> list[str]:
    """Two-step sign-in on, once the app shows the right code for `secret`; the recovery codes,
    to show once. ValidationFailed naming `code` otherwise."""
    user = await get_user(session, user_id)
    step = _step(secret, code, None)
    if step is None:
        raise ValidationFailed({"code": NOT_A_SETUP_CODE})
    codes = _recovery_codes()
    user.totp_secret_encrypted = secret_box.encrypt(secret)
    user.totp_last_step = step
    user.recovery_code_hashes = [_hash(c) for c in codes]
    await session.flush()
    return codes


async def turn_off(session: AsyncSession, user_id: int) -> User:
    user = await get_user(session, user_id)
    user.totp_secret_encrypted, user.totp_last_step, user.recovery_code_hashes = None, None, []
    await session.flush()
    return user


async def signing_in(session: AsyncSession, user_id: object) -> User:
    """The account a sign-in waits for a code for; NotFound once it is gone or inactive, or no longer asks."""
    user = await session.get(User, user_id) if isinstance(user_id, int) and is_valid_id(user_id) else None
    if user is None or not user.is_active or not user.two_step:
        raise NotFound("Sign in again.")
    return user


async def check_code(
    session: AsyncSession, redis: Redis, settings: SecuritySettings, user_id: int, code: str, ip: str
) -> User:
    """The account, once `code` is its app's code of now or an unused recovery code (which is then
    used up); ValidationFailed naming `code` otherwise, TooManyAttempts past the limit."""
    counted_as = f"two-step:{user_id}"
    await login_throttle.check(redis, settings, counted_as, ip)
    user = await session.get(User, user_id, with_for_update=True)  # two tries of one code: one wins
    if user is None or not user.two_step:
        raise NotFound("Sign in again.")
    secret = secret_box.decrypt(user.totp_secret_encrypted)
    step = _step(secret, code, user.totp_last_step) if secret else None
    hashed = _hash(code)
    if step is not None:
        user.totp_last_step = step
    elif hashed in user.recovery_code_hashes:
        user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != hashed]
    else:
        await login_throttle.record_failure(redis, settings, counted_as, ip)
        raise ValidationFailed({"code": WRONG_CODE})
    await login_throttle.record_success(redis, counted_as, ip)
    await session.flush()
    return user
