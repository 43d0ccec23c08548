"""Inbound ESP webhooks, one module per provider: how its requests are authenticated and how its
reports become FeedbackEvents. Verification and parsing are pure functions (no I/O), so each can be
tested with a recorded payload; what needs Redis or the network (SNS certificates, Mailgun's used
tokens) is in the calling service: ../inbound.py and ../sns_certificates.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from webapp.feedback.schemas import FeedbackEvent

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


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
    except (msgspec.DecodeError, RecursionError):
        raise Refused(400, "The body is not valid JSON (or is nested too deeply).") from None


def storable(event: FeedbackEvent) -> FeedbackEvent:
    """The event without NUL characters, which PostgreSQL text cannot hold (a provider may quote
    anything a remote server said), and its time in UTC (PostgreSQL refuses offsets past 15:59);
    a time that is no real moment of sending (before 2000, or later than tomorrow) becomes now."""
    changes: dict[str, Any] = {
        name: value.replace("\x00", "")
        for name in ("source_id", "email", "message_id", "provider_message_id", "detail", "url", "user_agent")
        if isinstance(value := getattr(event, name), str) and "\x00" in value
    }
    now = datetime.now(UTC)
    try:
        at = event.at.astimezone(UTC)
    except (OverflowError, ValueError):
        at = now
    changes["at"] = at if EARLIEST <= at <= now + timedelta(days=1) else now
    return msgspec.structs.replace(event, **changes)


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
