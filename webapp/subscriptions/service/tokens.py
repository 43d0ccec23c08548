"""Signed links for subscribers: the double opt-in confirmation link (expires) and the contact's
preference-centre link (does not: it is in emails people keep).

itsdangerous signs with HMAC-SHA256 under a key derived per purpose from the secret key
(core/tokens.py), so neither token is valid as the other, nor as a tracking or unsubscribe token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from webapp.core.config import get_settings
from webapp.core.tokens import purpose_key
from webapp.core.validation import is_valid_id

SECONDS_PER_HOUR = 3600


@lru_cache
def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        purpose_key("subscribe-confirm"), salt="confirm", signer_kwargs={"digest_method": hashlib.sha256}
    )


@lru_cache
def _preferences_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(
        purpose_key("preferences"), salt="contact", signer_kwargs={"digest_method": hashlib.sha256}
    )


def confirm_token(subscription_id: int, list_id: int, *, issued_at: float | None = None) -> str:
    """The token of a confirmation link; issued_at (epoch seconds) is for tests of expiry."""
    serializer = _confirm_serializer()
    if issued_at is None:
        return serializer.dumps([subscription_id, list_id])
    then = int(issued_at)

    class IssuedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return then

    signed_then = URLSafeTimedSerializer(
        serializer.secret_keys[-1], salt="confirm", signer=IssuedThen, signer_kwargs={"digest_method": hashlib.sha256}
    )
    return signed_then.dumps([subscription_id, list_id])


@dataclass(frozen=True)
class ConfirmLink:
    subscription_id: int
    list_id: int
    expired: bool  # genuine, but older than the configured lifetime


def read_confirm_token(token: str) -> ConfirmLink | None:
    """What a confirmation token names, or None when it is forged or damaged. An expired token is
    still returned (expired=True), so the page can offer a new link for the same subscription."""
    serializer = _confirm_serializer()
    max_age = get_settings().subscriptions.confirm_max_age_hours * SECONDS_PER_HOUR
    expired = False
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        expired = True
        try:
            payload = serializer.load_payload(exc.payload) if exc.payload is not None else None
        except BadSignature:
            return None
    except (BadSignature, UnicodeError, ValueError):
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and all(is_valid_id(n) for n in payload)):
        return None
    return ConfirmLink(payload[0], payload[1], expired)


def preferences_token(contact_id: int) -> str:
    return _preferences_serializer().dumps(contact_id)


def read_preferences_token(token: str) -> int | None:
    try:
        contact_id = _preferences_serializer().loads(token)
    except (BadSignature, UnicodeError, ValueError):
        return None
    return contact_id if is_valid_id(contact_id) else None
