"""Mailgun webhooks: HMAC-SHA256 of timestamp + token with the webhook signing key, a timestamp
within the replay window (that each token is used once is checked by the caller, in Redis), and the
event-data of each event.
https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.feedback.service.providers import Refused, json_body, mapping, moment, our_message_id, text

log = logging.getLogger("mailroom.feedback")

REPLAY_WINDOW_SECONDS = 300
KINDS = {
    "delivered": FeedbackKind.DELIVERED,
    "failed": FeedbackKind.BOUNCED,
    "complained": FeedbackKind.COMPLAINED,
    "unsubscribed": FeedbackKind.UNSUBSCRIBED,
    "opened": FeedbackKind.OPENED,
    "clicked": FeedbackKind.CLICKED,
}


def payload(body: bytes) -> dict[str, Any]:
    data = json_body(body)
    if not isinstance(data, dict):
        raise Refused(400, "A Mailgun webhook body is a JSON object.")
    return data


def verify(key: str, data: dict[str, Any], now: float) -> str:
    """The token, once the signature is good and recent; Refused otherwise."""
    signature = mapping(data.get("signature"))
    timestamp, token, given = (
        text(signature.get("timestamp")),
        text(signature.get("token")),
        text(signature.get("signature")),
    )
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not token or not hmac.compare_digest(expected, given):
        raise Refused(401, "The Mailgun signature does not match.")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise Refused(401, "The Mailgun signature has expired.")
    return token


def events(data: dict[str, Any]) -> list[FeedbackEvent]:
    item = mapping(data.get("event-data"))
    name = text(item.get("event"))
    kind = KINDS.get(name)
    if kind is None or not text(item.get("id")):
        log.info("Mailgun event we do not use: %s", name or "none")
        return []
    more: dict[str, Any] = {}
    status = mapping(item.get("delivery-status"))
    detail = " ".join(
        str(p) for p in (status.get("code"), text(status.get("message")) or text(status.get("description"))) if p
    )
    if name == "failed":
        if text(item.get("severity")) == "temporary":
            kind = FeedbackKind.DEFERRED
        else:  # "old": gave up after retrying temporary failures, which is no proof the address is bad
            more["bounce_type"] = "soft" if text(item.get("reason")) == "old" else "hard"
        detail = " ".join(p for p in (text(item.get("reason")), detail) if p)
    if name == "clicked":
        more["url"] = text(item.get("url")) or None
    headers = mapping(mapping(item.get("message")).get("headers"))
    # The message-id Mailgun quotes: its own id of the message (its send reply's "id", without the
    # angle brackets), or the message's Message-ID header; tried as either.
    quoted_id = our_message_id(headers.get("message-id"))
    return [
        FeedbackEvent(
            source=FeedbackSource.MAILGUN,
            source_id=text(item.get("id")),
            kind=kind,
            email=text(item.get("recipient")),
            at=moment(item.get("timestamp")),
            message_id=quoted_id,
            provider_message_id=quoted_id,
            detail=detail,
            user_agent=text(mapping(item.get("client-info")).get("user-agent")),
            **more,
        )
    ]
