"""The one shape every feedback source is normalised to before anything is recorded: an ESP webhook
(Amazon SES, SendGrid, Postmark, Mailgun, generic), or a DSN or ARF report from the bounce mailbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from msgspec import Struct


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
    message_id, else by the recipient's latest delivery. source_id is the source's own id of the
    report (SNS MessageId, SendGrid sg_event_id, a DSN's Message-ID ...): with source it makes a
    repeated report harmless."""

    source: FeedbackSource
    source_id: str
    kind: FeedbackKind
    email: str  # the recipient, as the provider reports it
    at: datetime  # timezone-aware, when the provider says it happened
    message_id: str | None = None  # our Message-ID header, with its angle brackets
    delivery_id: int | None = None  # only from a verified VERP Return-Path
    bounce_type: Literal["hard", "soft"] | None = None  # set for BOUNCED only
    detail: str = ""  # the diagnostic: SMTP status and text, complaint feedback type, provider reason
    url: str | None = None  # for CLICKED
    user_agent: str = ""
