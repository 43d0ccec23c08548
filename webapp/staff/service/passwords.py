"""argon2id password hashing, at the cost the settings give (RFC 9106's recommendation by default).
A hash keeps the cost it was made with, so changing it asks each account to be hashed again at its
next sign-in (needs_rehash)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from webapp.core.config import get_settings


@functools.cache
def _hasher() -> PasswordHasher:
    cost = get_settings().security
    return PasswordHasher(
        time_cost=cost.password_time_cost,
        memory_cost=cost.password_memory_kib,
        parallelism=cost.password_parallelism,
        type=Type.ID,
    )


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so a wrong email costs as much as a wrong
    password and timing tells nothing about which accounts exist."""
    return _hasher().hash("mailroom-dummy-password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
