"""SendGrid's Signed Event Webhook: ECDSA (P-256, SHA-256) over the timestamp header followed by the
raw body, checked with the verification key SendGrid shows (base64 DER), and its events.
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.feedback.service.providers import Refused, json_body, mapping, moment, our_message_id, text
from webapp.settings.schemas import sendgrid_public_key as public_key

__all__ = ["events", "public_key", "verify"]

log = logging.getLogger("mailroom.feedback")

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
OWN_PART = re.compile(r"\.(filter|recvd-)")  # where sg_message_id goes on after the request's X-Message-Id
SIMPLE = {
    "delivered": FeedbackKind.DELIVERED,
    "deferred": FeedbackKind.DEFERRED,
    "spamreport": FeedbackKind.COMPLAINED,
    "unsubscribe": FeedbackKind.UNSUBSCRIBED,
    "group_unsubscribe": FeedbackKind.UNSUBSCRIBED,
    "open": FeedbackKind.OPENED,
    "click": FeedbackKind.CLICKED,
}


def verify(key: ec.EllipticCurvePublicKey, signature: str, timestamp: str, body: bytes) -> None:
    """Raise Refused unless `signature` (base64 DER) signs timestamp + body. Timestamps are not
    limited to a window: SendGrid retries for up to three days, and sg_event_id makes a repeat harmless."""
    if not signature or not timestamp:
        raise Refused(401, "The SendGrid signature headers are missing.")
    try:
        key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, InvalidSignature):
        raise Refused(401, "The SendGrid signature does not match.") from None


def events(body: bytes) -> list[FeedbackEvent]:
    batch = json_body(body)
    if not isinstance(batch, list):
        raise Refused(400, "A SendGrid event batch is a JSON array.")
    found = []
    for item in batch:
        event = _event(mapping(item))
        if event is None:
            log.info("SendGrid event we do not use: %s", text(mapping(item).get("event")) or "none")
        else:
            found.append(event)
    return found


def _event(item: dict[str, Any]) -> FeedbackEvent | None:
    name = text(item.get("event"))
    kind = SIMPLE.get(name)
    more: dict[str, Any] = {}
    if name == "bounce":  # "blocked" is a refusal SendGrid does not suppress; "bounce" is final
        kind = FeedbackKind.BOUNCED
        more["bounce_type"] = "soft" if text(item.get("type")) == "blocked" else "hard"
    elif name == "dropped":
        kind, more = _dropped(text(item.get("reason")))
    elif name == "click":
        more["url"] = text(item.get("url")) or None
    if kind is None or not text(item.get("sg_event_id")):
        return None
    detail = " ".join(p for p in (text(item.get("status")), text(item.get("reason") or item.get("response"))) if p)
    return FeedbackEvent(
        source=FeedbackSource.SENDGRID,
        source_id=text(item.get("sg_event_id")),
        kind=kind,
        email=text(item.get("email")),
        at=moment(item.get("timestamp")),
        message_id=our_message_id(item.get("smtp-id")),
        provider_message_id=_request_id(text(item.get("sg_message_id"))),
        detail=detail,
        user_agent=text(item.get("useragent")),
        **more,
    )


def _request_id(sg_message_id: str) -> str | None:
    """The X-Message-Id of the request that sent the message: sg_message_id up to where SendGrid's
    part of its own begins (".filter..." or ".recvd-..."; the id may hold dots of its own, as in
    "14c5d75ce93.dfd.64b469"). None for another shape."""
    found = OWN_PART.search(sg_message_id)
    return sg_message_id[: found.start()] if found and found.start() else None


def _dropped(reason: str) -> tuple[FeedbackKind, dict[str, Any]]:
    """SendGrid drops mail to addresses on its own lists; the reason says which list."""
    lowered = reason.lower()
    if "unsubscribe" in lowered:
        return FeedbackKind.UNSUBSCRIBED, {}
    if "spam" in lowered:
        return FeedbackKind.COMPLAINED, {}
    hard = "bounced" in lowered or "invalid" in lowered
    return FeedbackKind.BOUNCED, {"bounce_type": "hard" if hard else "soft"}
