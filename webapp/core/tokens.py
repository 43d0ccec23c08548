"""Signed, opaque tokens for tracking, unsubscribe and preference links.

itsdangerous signs with HMAC-SHA256. Keys are derived once per purpose (open, click, unsubscribe)
from the secret key, so a token for one purpose is never valid for another, and signing costs a
few microseconds, which matters at thousands of messages a second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from functools import lru_cache

from itsdangerous import BadSignature, Signer

from webapp.core.config import get_settings
from webapp.core.i18n import N_

PURPOSES = ("open", "click", "unsubscribe")
# The delivery a test send's links name (ids start at 1): the pages they lead to work, and the
# tracking endpoints record nothing for it.
TEST_DELIVERY_ID = 0
LINK_NOT_VALID = N_("This link is not valid.")  # a token forged, damaged or of another purpose
LINK_GONE = N_("This link is no longer valid.")  # a good token for what is no longer there (deleted, erased)
# A click token holds (delivery, link, campaign); mail sent before the campaign was added holds
# (delivery, link), and its links keep working.
CLICK_TOKEN_COUNTS = (3, 2)


def purpose_key(purpose: str) -> bytes:
    """A key of its own for each purpose, derived from the secret key: a token signed for one
    purpose is never valid for another (also used by the subscribers' links, see subscriptions)."""
    return hmac.new(get_settings().secret_key().encode(), f"mailroom-{purpose}".encode(), hashlib.sha256).digest()


@lru_cache
def _signer(purpose: str) -> Signer:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    return Signer(purpose_key(purpose), key_derivation="none", digest_method=hashlib.sha256)


def make_token(purpose: str, *numbers: int) -> str:
    payload = base64.urlsafe_b64encode(struct.pack(f">{len(numbers)}Q", *numbers)).rstrip(b"=")
    return _signer(purpose).sign(payload).decode()


def read_token(purpose: str, token: str, count: int, *older_counts: int) -> tuple[int, ...] | None:
    """The `count` numbers in a valid token of this purpose (or as many as one of `older_counts`:
    the formats of links in mail sent before), or None for anything forged or damaged."""
    try:
        payload = _signer(purpose).unsign(token.encode("ascii"))
        raw = base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
        if len(raw) not in {8 * n for n in (count, *older_counts)}:
            return None
        return struct.unpack(f">{len(raw) // 8}Q", raw)
    except (BadSignature, UnicodeEncodeError, ValueError, struct.error):
        return None
