"""Encryption at rest for secrets staff enter (SMTP passwords, DKIM keys): Fernet with a key
derived from MAILROOM_SECRET_KEY. Rotating the secret key means re-entering these secrets."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from webapp.core.config import get_settings


@lru_cache
def _fernet() -> Fernet:
    digest = hashlib.sha256(("mailroom-secret-box:" + get_settings().secret_key()).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> bytes:
    return _fernet().encrypt(plain.encode())


def decrypt(token: bytes | None) -> str:
    """The secret, or "" if there is none or it was encrypted under another secret key."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(bytes(token)).decode()
    except InvalidToken:
        return ""
