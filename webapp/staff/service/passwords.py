"""argon2id password hashing, at the cost the settings give (RFC 9106's recommendation by default).
A hash keeps the cost it was made with, so changing it asks each account to be hashed again at its
next sign-in (needs_rehash). A new password must not be easy to guess (NIST SP 800-63B: no common
or breached passwords, no words from the context): zxcvbn's estimate, with the account's name and
address and the product's name among the words it tries."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from webapp.core.config import get_settings
from webapp.core.errors import ValidationFailed

# zxcvbn's score 3: about 10^8 guesses or more, which argon2id puts out of reach offline.
LEAST_SCORE = 3
JUDGED_LENGTH = 72  # zxcvbn's limit; characters past it only make a password harder to guess
TOO_EASY = "Too easy to guess. {why}Use a few uncommon words together, or more characters."


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


def check_unguessable(password: str, personal: Iterable[str | None]) -> None:
    """ValidationFailed naming `password` when it is easy to guess, also from `personal` (the
    account's address and name)."""
    words = ["mailroom"]
    for text in filter(None, personal):
        words += [text, *re.split(r"[\W_]+", text)]
    judged = zxcvbn(password[:JUDGED_LENGTH], user_inputs=[w.lower() for w in words if len(w) > 2])
    if judged["score"] < LEAST_SCORE:
        personal_part = any(part.get("dictionary_name") == "user_inputs" for part in judged["sequence"])
        warning = "It holds this account's name or address, or the name Mailroom. " if personal_part else ""
        if judged["feedback"]["warning"]:
            warning += f"{judged['feedback']['warning']} "
        raise ValidationFailed({"password": TOO_EASY.format(why=warning)})


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
