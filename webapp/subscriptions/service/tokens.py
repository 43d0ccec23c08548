"""Signed links for subscribers: the double opt-in confirmation link (expires), the contact's
preference-centre link (does not: it is in emails people keep), and the link to download one's data
(expires within a day: it is mailed on request, so only the mailbox's owner has it).

itsdangerous signs with HMAC-SHA256 under a key derived per purpose from the secret key
(core/tokens.py), so neither token is valid as the other, nor as a tracking or unsubscribe token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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
def _data_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(purpose_key("my-data"), salt="data", signer_kwargs={"digest_method": hashlib.sha256})


@lru_cache
def _preferences_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(
        purpose_key("preferences"), salt="contact", signer_kwargs={"digest_method": hashlib.sha256}
    )


def _dumps(serializer: URLSafeTimedSerializer, payload: object, issued_at: float | None) -> str:
    """A timed token; issued_at (epoch seconds) is for tests of expiry."""
    if issued_at is None:
        return serializer.dumps(payload)
    then = int(issued_at)

    class IssuedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return then

    signed_then = URLSafeTimedSerializer(
        serializer.secret_keys[-1],
        salt=serializer.salt,
        signer=IssuedThen,
        signer_kwargs={"digest_method": hashlib.sha256},
    )
    return signed_then.dumps(payload)


def confirm_token(subscription_id: int, list_id: int, *, issued_at: float | None = None) -> str:
    return _dumps(_confirm_serializer(), [subscription_id, list_id], issued_at)


@dataclass(frozen=True)
class ConfirmLink:
    subscription_id: int
    list_id: int
    expired: bool  # genuine, but older than the configured lifetime


def _loads(serializer: URLSafeTimedSerializer, token: str, max_age: int) -> tuple[Any, bool] | None:
    """(payload, expired), or None when the token is forged or damaged. An expired token's payload is
    still returned, so its page can offer a new link for the same thing."""
    try:
        return serializer.loads(token, max_age=max_age), False
    except SignatureExpired as exc:
        try:
            return (serializer.load_payload(exc.payload), True) if exc.payload is not None else None
        except BadSignature:
            return None
    except (BadSignature, UnicodeError, ValueError):
        return None


def read_confirm_token(token: str) -> ConfirmLink | None:
    """What a confirmation token names, or None when it is forged or damaged."""
    read = _loads(_confirm_serializer(), token, get_settings().subscriptions.confirm_max_age_hours * SECONDS_PER_HOUR)
    if read is None:
        return None
    payload, expired = read
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


DATA_LINK_HOURS = 24


@dataclass(frozen=True)
class DataLink:
    contact_id: int
    expired: bool


def data_token(contact_id: int, *, issued_at: float | None = None) -> str:
    return _dumps(_data_serializer(), contact_id, issued_at)


def read_data_token(token: str) -> DataLink | None:
    """Whose data a download link is for, or None when it is forged or damaged."""
    read = _loads(_data_serializer(), token, DATA_LINK_HOURS * SECONDS_PER_HOUR)
    if read is None or not is_valid_id(read[0]):
        return None
    return DataLink(read[0], read[1])
