"""The one shape every feedback source is normalised to before anything is recorded: an ESP webhook
(Amazon SES, SendGrid, Postmark, Mailgun, generic), or a DSN or ARF report from the bounce mailbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from msgspec import Meta, Struct

from webapp.core.schemas import Schema, one_of, whole_number


class FeedbackKind(StrEnum):
    DELIVERED = "delivered"
    DEFERRED = "deferred"  # a temporary failure the provider is still retrying; counts towards nothing
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    OPENED = "opened"
    CLICKED = "clicked"


class FeedbackSource(StrEnum):
    SES = "ses"
    SENDGRID = "sendgrid"
    POSTMARK = "postmark"
    MAILGUN = "mailgun"
    GENERIC = "generic"
    MAILBOX = "mailbox"


class FeedbackEvent(Struct, frozen=True, kw_only=True):
    """One provider report about one recipient of one message.

    The message is found by delivery_id when the source proves it (a signed VERP address), else by
    the provider's id of it with the recipient, else by message_id, else by the recipient's latest
    delivery. source_id is the source's own id of the
    report (SNS MessageId, SendGrid sg_event_id, a DSN's Message-ID ...): with source it makes a
    repeated report harmless."""

    source: FeedbackSource
    source_id: str
    kind: FeedbackKind
    email: str  # the recipient, as the provider reports it
    at: datetime  # timezone-aware, when the provider says it happened
    message_id: str | None = None  # our Message-ID header, with its angle brackets
    # The provider's id of the message, as its sending API replied (deliveries.provider_message_id).
    provider_message_id: str | None = None
    delivery_id: int | None = None  # only from a verified VERP Return-Path
    bounce_type: Literal["hard", "soft"] | None = None  # set for BOUNCED only
    detail: str = ""  # the diagnostic: SMTP status and text, complaint feedback type, provider reason
    url: str | None = None  # for CLICKED
    user_agent: str = ""


# ---- the rules that follow (Settings -> Bounces and complaints) ---------------------------------

SOFT_BOUNCE_ACTIONS = {
    "none": "Nothing (keep counting)",
    "unsubscribe": "Unsubscribe the contact",
    "suppress": "Treat as a hard bounce (suppress the address)",
    "delete": "Delete the contact (the address stays suppressed)",
}
MAX_SOFT_BOUNCES = 100
MAX_SOFT_BOUNCE_DAYS = 365


class BounceRulesInput(Schema, kw_only=True):
    """What repeated soft bounces do: `soft_bounce_limit` of them within `soft_bounce_days` days."""

    soft_bounce_limit: Annotated[int, Meta(title="Soft bounces"), whole_number(1, MAX_SOFT_BOUNCES)]
    soft_bounce_days: Annotated[int, Meta(title="Within days"), whole_number(1, MAX_SOFT_BOUNCE_DAYS)]
    soft_bounce_action: Annotated[
        str,
        Meta(title="Then"),
        one_of(list(SOFT_BOUNCE_ACTIONS), "Choose what happens: none, unsubscribe, suppress or delete."),
    ]
