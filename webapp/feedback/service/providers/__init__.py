"""Inbound ESP webhooks, one module per provider: how its requests are authenticated and how its
reports become FeedbackEvents. Verification and parsing are pure functions (no I/O), so each can be
tested with a recorded payload; what needs Redis or the network (SNS certificates, Mailgun's used
tokens) is in the calling service, webhooks.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec


class Refused(Exception):
    """A request we do not act on, and the status to answer it with: 400 malformed, 401 not
    authenticated, 403 authentic but not allowed, 404 the source is not configured."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def json_body(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise Refused(400, "The body is not valid JSON.") from None


def our_message_id(value: object) -> str | None:
    """A Message-ID header value as we store it, with its angle brackets (some providers drop them)."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


def moment(value: object) -> datetime:
    """A provider's time (ISO 8601 text or Unix seconds) as an aware datetime; now if it has none."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return datetime.now(UTC)


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


def mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
