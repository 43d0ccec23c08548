"""Bounce and complaint mail read into FeedbackEvents, with the standard library's email package.

Two kinds of mail are understood, both multipart/report:
- a delivery status notification (RFC 3464, report-type=delivery-status): one event per recipient
  block; Action failed with Status 5.x.x is a hard bounce, failed with 4.x.x a soft one, delayed
  is deferred, delivered is delivered; the Diagnostic-Code is the detail.
- a complaint (ARF, RFC 5965, report-type=feedback-report): Feedback-Type abuse or fraud is a
  complaint about the recipient in Original-Rcpt-To (else the returned message's To; a
  report that redacts both is still about the message its return path or Message-ID names).
Anything else (auto-replies, spam, other reports) gives no event.

Which message a report is about: the signed VERP address it was sent to (To, Delivered-To,
X-Original-To; for a complaint also Original-Mail-From), else the returned message's Message-ID,
else the recipient's address (the feedback service looks them up in that order). A report sent
to a VERP-shaped address whose signature does not verify is forged and gives no event at all.
"""

from __future__ import annotations

import email
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message, MIMEPart
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Literal

from msgspec.structs import replace

from webapp.core import verp
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource

COMPLAINT_TYPES = frozenset({"abuse", "fraud"})
DSN_TYPES = frozenset({"delivery-status", "global-delivery-status"})
VERP_HEADERS = ("To", "Delivered-To", "X-Original-To")
DETAIL_LENGTH = 500


class Forged(Exception):
    """The report went to a VERP address whose signature does not verify."""


def read(raw: bytes) -> list[FeedbackEvent]:
    """The events a piece of bounce mail reports; [] for mail that is not a DSN or ARF report.
    Raises Forged for a report sent to a VERP address that is not ours."""
    report = email.message_from_bytes(raw, policy=policy.default)
    if not isinstance(report, EmailMessage) or report.get_content_type() != "multipart/report":
        return []
    kind = str(report.get_param("report-type", "")).lower()
    parts = {part.get_content_type(): part for part in report.iter_parts()}
    returned = _returned_headers(parts)
    context = _Context(report, raw, returned)
    status = parts.get("message/delivery-status") or parts.get("message/global-delivery-status")
    if kind in DSN_TYPES and status is not None:
        context.delivery_id = _verp_delivery(_header_values(report, VERP_HEADERS))
        return list(context.numbered(_dsn_events(context, status)))
    if kind == "feedback-report" and "message/feedback-report" in parts:
        fields = _blocks(parts["message/feedback-report"])[:1] or [Message()]
        candidates = _header_values(report, VERP_HEADERS) + _header_values(fields[0], ("Original-Mail-From",))
        context.delivery_id = _verp_delivery(candidates + _header_values(returned, ("Return-Path",)))
        return list(context.numbered(_arf_events(context, fields[0])))
    return []


class _Context:
    """What every event of one report shares."""

    def __init__(self, report: EmailMessage, raw: bytes, returned: Message) -> None:
        self.source_id = _clean(report.get("Message-ID", "")) or "sha256:" + hashlib.sha256(raw).hexdigest()
        self.at = _date(report.get("Date", ""))
        self.message_id = _clean(returned.get("Message-ID", "")) or None
        self.returned_to = _first_address(returned.get("To", ""))
        self.delivery_id: int | None = None

    def event(
        self, kind: FeedbackKind, email_address: str, detail: str, bounce_type: Literal["hard", "soft"] | None = None
    ) -> FeedbackEvent:
        return FeedbackEvent(
            source=FeedbackSource.MAILBOX,
            source_id=self.source_id,
            kind=kind,
            email=email_address,
            at=self.at,
            message_id=self.message_id,
            delivery_id=self.delivery_id,
            bounce_type=bounce_type,
            detail=detail[:DETAIL_LENGTH],
        )

    def numbered(self, events: Iterator[FeedbackEvent]) -> Iterator[FeedbackEvent]:
        """A report about several recipients: the second and later events get ids of their own."""
        for index, event in enumerate(events):
            yield event if index == 0 else replace(event, source_id=f"{self.source_id}#{index}")


def _dsn_events(context: _Context, status_part: Message) -> Iterator[FeedbackEvent]:
    for block in _blocks(status_part)[1:]:  # the first block is about the message, the rest one per recipient
        recipient = _typed_address(block.get("Final-Recipient", "")) or _typed_address(
            block.get("Original-Recipient", "")
        )
        if not recipient:
            continue
        action, status = _clean(block.get("Action", "")).lower(), _clean(block.get("Status", ""))
        detail = " ".join(part for part in (status, _diagnostic(block.get("Diagnostic-Code", ""))) if part)
        if action == "failed":
            yield context.event(FeedbackKind.BOUNCED, recipient, detail, "hard" if status.startswith("5") else "soft")
        elif action == "delayed":
            yield context.event(FeedbackKind.DEFERRED, recipient, detail)
        elif action == "delivered":
            yield context.event(FeedbackKind.DELIVERED, recipient, detail)


def _arf_events(context: _Context, fields: Message) -> Iterator[FeedbackEvent]:
    feedback_type = _clean(fields.get("Feedback-Type", "")).lower()
    if feedback_type not in COMPLAINT_TYPES:
        return
    recipient = _first_address(fields.get("Original-Rcpt-To", "")) or context.returned_to
    # Some feedback loops redact the recipient: the signed return path or the Message-ID still
    # names the message (and through it the recipient).
    if recipient or context.delivery_id is not None or context.message_id:
        yield context.event(FeedbackKind.COMPLAINED, recipient, f"feedback type {feedback_type}")


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part. The email
    package splits the first into blocks itself; a message/global-delivery-status (RFC 6533, for
    internationalised addresses) it reads as one message whose body holds the blocks after the first."""
    payload = part.get_payload()
    blocks = [block for block in payload if isinstance(block, Message)] if isinstance(payload, list) else []
    if part.get_content_type() == "message/global-delivery-status" and len(blocks) == 1:
        rest = blocks[0].get_payload(decode=True)
        if isinstance(rest, bytes):
            parser = HeaderParser(policy=policy.default)
            text = rest.decode("utf-8", "replace")  # UTF-8 is allowed in these fields
            blocks += [parser.parsestr(block) for block in re.split(r"\r?\n\s*\r?\n", text) if block.strip()]
    return blocks


def _returned_headers(parts: dict[str, MIMEPart]) -> Message:
    """The headers of the message the report is about, where it returns them."""
    if (whole := parts.get("message/rfc822")) is not None:
        inner = whole.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0]
    if (headers := parts.get("text/rfc822-headers")) is not None:
        return email.message_from_string(headers.get_content(), policy=policy.default)
    return Message()


def _verp_delivery(addresses: list[str]) -> int | None:
    for address in addresses:
        if verp.looks_signed(address):
            if (found := verp.delivery_id(address)) is None:
                raise Forged(address)
            return found
    return None


def _header_values(message: Message, names: tuple[str, ...]) -> list[str]:
    values = [str(value) for name in names for value in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def _first_address(value: object) -> str:
    found = [address for _, address in getaddresses([str(value)]) if "@" in address]
    return found[0] if found else ""


def _typed_address(value: object) -> str:
    """The address of a DSN field such as `rfc822; user@example.com`."""
    address_type, _, address = str(value).partition(";")
    address = address.strip().strip("<>") if address else address_type.strip().strip("<>")
    return address if "@" in address else ""


def _diagnostic(value: object) -> str:
    """A Diagnostic-Code without its type: `smtp; 550 5.1.1 ...` -> `550 5.1.1 ...`."""
    text = " ".join(str(value).split())
    kind, separator, rest = text.partition(";")
    return rest.strip() if separator and " " not in kind.strip() else text


def _clean(value: object) -> str:
    return " ".join(str(value).split())


def _date(value: object) -> datetime:
    try:
        found = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)
    return found if found.tzinfo else found.replace(tzinfo=UTC)
