"""Our own inbound webhook for any other sender of feedback (an MTA's hook, a small ESP, a script),
signed like the webhooks Mailroom sends (core/webhook_signature.py). The JSON shape is documented in
the README ("Provider webhooks"):

    {"events": [{"id": "...", "type": "bounced", "email": "...", "timestamp": "2026-01-02T03:04:05Z",
                 "message_id": "<...>", "bounce_type": "hard", "detail": "...", "url": null, "user_agent": ""}]}
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

import msgspec

from webapp.core.webhook_signature import is_valid
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.feedback.service.providers import Refused, our_message_id

log = logging.getLogger("mailroom.feedback")

SIGNATURE_HEADER = "Mailroom-Signature"
TIMESTAMP_HEADER = "Mailroom-Timestamp"


class GenericEvent(msgspec.Struct):
    id: str
    type: str
    email: str
    timestamp: datetime
    message_id: str | None = None
    bounce_type: Literal["hard", "soft"] | None = None
    detail: str = ""
    url: str | None = None
    user_agent: str = ""


class GenericBatch(msgspec.Struct):
    events: list[GenericEvent]


def verify(secret: str, signature: str, timestamp: str, body: bytes, now: float) -> None:
    if not is_valid(secret, signature, timestamp, body, now):
        raise Refused(401, "The Mailroom signature is missing, wrong or expired.")


def events(body: bytes) -> list[FeedbackEvent]:
    try:
        batch = msgspec.json.decode(body, type=GenericBatch)
    except msgspec.ValidationError as exc:
        raise Refused(400, f"Not the generic webhook's shape: {exc}") from None
    except (msgspec.DecodeError, RecursionError):
        raise Refused(400, "The body is not valid JSON (or is nested too deeply).") from None
    kinds = {kind.value: kind for kind in FeedbackKind}
    found = []
    for item in batch.events:
        kind = kinds.get(item.type)
        if kind is None:
            log.info("Generic webhook event of an unknown type: %s", item.type[:50])
            continue
        found.append(
            FeedbackEvent(
                source=FeedbackSource.GENERIC,
                source_id=item.id,
                kind=kind,
                email=item.email,
                at=item.timestamp if item.timestamp.tzinfo else item.timestamp.replace(tzinfo=UTC),
                message_id=our_message_id(item.message_id),
                bounce_type=(item.bounce_type or "soft") if kind is FeedbackKind.BOUNCED else None,
                detail=item.detail[:1000],
                url=item.url if kind is FeedbackKind.CLICKED else None,
                user_agent=item.user_agent[:500],
            )
        )
    return found
