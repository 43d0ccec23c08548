"""Signed VERP return paths: each message's envelope sender (MAIL FROM) names its delivery, so a
bounce sent back to it says which message failed, e.g. bounces+1234-k3x9q2m7ab@bounce.example.com.

The tag is an HMAC of the delivery id under a key of its own (tokens.purpose_key), so nobody can
make up the address of another delivery to unsubscribe its recipient with a forged bounce. It is
lower-case base32: mail servers may change the case of a local part, and then it still verifies.
Signing costs a microsecond or two, once per message sent.
"""

from __future__ import annotations

import base64
import hmac
import re
from functools import lru_cache

from webapp.core.tokens import purpose_key

TAG_LENGTH = 10  # base32 characters: 50 bits, far beyond what anyone can guess by sending bounces
TAG_BYTES = 7  # of the HMAC, enough for TAG_LENGTH base32 characters
SHAPE = re.compile(r"\+\d+-[a-z2-7]+@", re.IGNORECASE)


@lru_cache
def _key() -> bytes:
    return purpose_key("verp")


def _tag(delivery_id: int) -> str:
    digest = hmac.digest(_key(), str(delivery_id).encode(), "sha256")  # the one-shot C path: ~1 µs
    return base64.b32encode(digest[:TAG_BYTES]).decode()[:TAG_LENGTH].lower()


def return_path(bounce_address: str, delivery_id: int) -> str:
    """The envelope sender for one delivery: `local+<id>-<tag>@domain` from the bounce address."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{delivery_id}-{_tag(delivery_id)}@{domain}"


def delivery_id(address: str) -> int | None:
    """The delivery a return path names, if its tag verifies (compared in constant time); None for
    any other address, forged or damaged."""
    local = address.strip().strip("<>").rpartition("@")[0]
    number, dash, tag = local.rpartition("+")[2].partition("-")
    if not dash or not number.isascii() or not number.isdigit() or len(number) > 19:
        return None
    found = int(number)
    return found if hmac.compare_digest(_tag(found), tag.lower()) else None


def looks_signed(address: str) -> bool:
    """Whether an address has the shape of a return path (whether or not its tag verifies)."""
    return SHAPE.search(address) is not None
