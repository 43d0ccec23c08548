"""Mailroom's webhook signature, for the webhooks we send and the generic ones we receive:
`Mailroom-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` with
`Mailroom-Timestamp: <unix seconds>`. Signing the timestamp with the body lets a receiver refuse an
old request replayed later."""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_SECONDS = 300  # how far a signed timestamp may be from the receiver's clock


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


MAX_SIGNATURES = 4  # in one header: a sender replacing its secret sends two (new first), never many


def is_valid(secret: str, signature: str, timestamp: str, body: bytes, now: float) -> bool:
    """Whether one of the space-separated signatures in `signature` (a sender replacing its secret
    signs with both) signs `body` at `timestamp` with `secret`, and the timestamp is recent."""
    if not secret or not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, int(timestamp), body)
    return any(hmac.compare_digest(expected, given) for given in signature.split()[:MAX_SIGNATURES])
