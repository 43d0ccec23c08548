"""Postmark webhooks: HTTP basic auth with the user and password set in the webhook's URL, and the
records Postmark posts, one per request.
https://postmarkapp.com/developer/webhooks/webhooks-overview"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from typing import Any

from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.feedback.service.providers import Refused, json_body, moment, text

log = logging.getLogger("mailroom.feedback")

HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}
SOFT = {"SoftBounce", "Transient", "DnsError", "Blocked", "SpamNotification", "DMARCPolicy", "Unknown", "SMTPApiError"}
# A SubscriptionChange that stops sending, by its reason.
SUPPRESSIONS = {"HardBounce": FeedbackKind.BOUNCED, "SpamComplaint": FeedbackKind.COMPLAINED}


def check_auth(authorization: str, user: str, password: str) -> None:
    scheme, _, encoded = authorization.partition(" ")
    try:
        given_user, _, given_password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        given_user = given_password = ""
    # Both compared in full, so the time taken says nothing about which one is wrong.
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    password_ok = hmac.compare_digest(given_password.encode(), password.encode())
    if scheme.lower() != "basic" or not (user_ok and password_ok):
        raise Refused(401, "The Postmark user or password is wrong.")


def events(body: bytes) -> list[FeedbackEvent]:
    record = json_body(body)
    if not isinstance(record, dict):
        raise Refused(400, "A Postmark webhook body is a JSON object.")
    event = _event(record)
    if event is None:
        log.info("Postmark record we do not use: %s %s", text(record.get("RecordType")), text(record.get("Type")))
        return []
    return [event]


def _event(record: dict[str, Any]) -> FeedbackEvent | None:
    record_type = text(record.get("RecordType"))
    email, at, detail = record.get("Recipient"), None, ""
    more: dict[str, Any] = {}
    if record_type == "Bounce":
        bounce_type = text(record.get("Type"))
        if bounce_type not in HARD | SOFT:
            return None
        kind, email, at = FeedbackKind.BOUNCED, record.get("Email"), record.get("BouncedAt")
        more["bounce_type"] = "hard" if bounce_type in HARD else "soft"
        detail = f"{bounce_type}: {text(record.get('Details'))}"
    elif record_type == "SpamComplaint":
        kind, email, at, detail = FeedbackKind.COMPLAINED, record.get("Email"), record.get("BouncedAt"), record_type
    elif record_type == "Delivery":
        kind, at, detail = FeedbackKind.DELIVERED, record.get("DeliveredAt"), text(record.get("Details"))
    elif record_type in ("Open", "Click"):
        kind = FeedbackKind.OPENED if record_type == "Open" else FeedbackKind.CLICKED
        at, more["user_agent"] = record.get("ReceivedAt"), text(record.get("UserAgent"))
        if record_type == "Click":
            more["url"] = text(record.get("OriginalLink")) or None
    elif record_type == "SubscriptionChange" and record.get("SuppressSending") is True:
        reason = text(record.get("SuppressionReason"))
        kind = SUPPRESSIONS.get(reason, FeedbackKind.UNSUBSCRIBED)
        if kind is FeedbackKind.BOUNCED:
            more["bounce_type"] = "hard"
        at, detail = record.get("ChangedAt"), f"Postmark suppression: {reason}"
    else:
        return None
    return FeedbackEvent(
        source=FeedbackSource.POSTMARK,
        source_id=_source_id(record, record_type, email, at),
        kind=kind,
        email=text(email),
        at=moment(at),
        provider_message_id=text(record.get("MessageID")) or None,
        detail=detail,
        **more,
    )


def _source_id(record: dict[str, Any], record_type: str, email: object, at: object) -> str:
    """Bounces and complaints have Postmark's ID. Opens, clicks, deliveries and subscription changes
    have none: the message, recipient and time make one. (MessageID is Postmark's id of the message,
    not our Message-ID header: the delivery keeps it as its provider_message_id.)"""
    if record.get("ID"):
        return f"{record_type}:{record['ID']}"
    return f"{record_type}:{text(record.get('MessageID'))}:{text(email)}:{text(at)}"
