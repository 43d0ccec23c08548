"""Amazon SES notifications (the Message of an SNS Notification) as FeedbackEvents: feedback
notifications (notificationType) and event publishing (eventType) alike.
https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html"""

from __future__ import annotations

import logging
from typing import Any

from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.feedback.service.providers import items, json_body, mapping, moment, our_message_id, text

log = logging.getLogger("mailroom.feedback")

BOUNCE_TYPES = {"Permanent": "hard", "Transient": "soft", "Undetermined": "soft"}


def message_id(mail: dict[str, Any]) -> str | None:
    """Our Message-ID from the original headers (SES includes them only when asked to); SES's own
    mail.messageId is the provider's id."""
    for header in items(mail.get("headers")):
        if text(mapping(header).get("name")).lower() == "message-id":
            return our_message_id(mapping(header).get("value"))
    return None


def events(sns_message_id: str, raw_message: str) -> list[FeedbackEvent]:
    notification = mapping(json_body(raw_message.encode()))
    kind = text(notification.get("notificationType") or notification.get("eventType"))
    mail = mapping(notification.get("mail"))
    common: dict[str, Any] = {
        "source": FeedbackSource.SES,
        "message_id": message_id(mail),
        "provider_message_id": text(mail.get("messageId")) or None,
    }

    def event(kind: FeedbackKind, email: object, at: object, **more: Any) -> FeedbackEvent:
        # One SNS message may report several recipients; record() keys each by its recipient too.
        return FeedbackEvent(source_id=sns_message_id, kind=kind, email=text(email), at=moment(at), **common, **more)

    if kind == "Bounce":
        bounce = mapping(notification.get("bounce"))
        bounce_type = BOUNCE_TYPES.get(text(bounce.get("bounceType")), "soft")
        return [
            event(
                FeedbackKind.BOUNCED,
                mapping(r).get("emailAddress"),
                bounce.get("timestamp"),
                bounce_type=bounce_type,
                detail=_detail(mapping(r), bounce),
            )
            for r in items(bounce.get("bouncedRecipients"))
        ]
    if kind == "Complaint":
        complaint = mapping(notification.get("complaint"))
        detail = text(complaint.get("complaintFeedbackType"))
        return [
            event(FeedbackKind.COMPLAINED, mapping(r).get("emailAddress"), complaint.get("timestamp"), detail=detail)
            for r in items(complaint.get("complainedRecipients"))
        ]
    if kind == "Delivery":
        delivery = mapping(notification.get("delivery"))
        detail = text(delivery.get("smtpResponse"))
        return [
            event(FeedbackKind.DELIVERED, r, delivery.get("timestamp"), detail=detail)
            for r in items(delivery.get("recipients"))
        ]
    if kind == "DeliveryDelay":
        delay = mapping(notification.get("deliveryDelay"))
        return [
            event(
                FeedbackKind.DEFERRED,
                mapping(r).get("emailAddress"),
                delay.get("timestamp"),
                detail=_detail(mapping(r), delay),
            )
            for r in items(delay.get("delayedRecipients"))
        ]
    if kind in ("Open", "Click"):
        hit = mapping(notification.get(kind.lower()))
        more: dict[str, Any] = {"user_agent": text(hit.get("userAgent"))}
        if kind == "Click":
            more["url"] = text(hit.get("link")) or None
        return [
            event(FeedbackKind.OPENED if kind == "Open" else FeedbackKind.CLICKED, r, hit.get("timestamp"), **more)
            for r in items(mail.get("destination"))
        ]
    if kind == "Subscription":
        change = mapping(notification.get("subscription"))
        if mapping(change.get("newTopicPreferences")).get("unsubscribeAll") is True:
            return [
                event(FeedbackKind.UNSUBSCRIBED, r, change.get("timestamp"), detail=text(change.get("source")))
                for r in items(mail.get("destination"))
            ]
        return []
    log.info("SES notification of a kind we do not use (%s) in SNS message %s", kind or "none", sns_message_id)
    return []


def _detail(recipient: dict[str, Any], report: dict[str, Any]) -> str:
    parts = (
        text(recipient.get("status")),
        text(recipient.get("diagnosticCode")),
        text(report.get("bounceSubType") or report.get("delayType")),
    )
    return " ".join(p for p in parts if p)
