"""Bounce and complaint mail read into events: DSNs as Postfix, Exchange and Gmail write them, an
ARF complaint, and mail that is neither."""

from __future__ import annotations

import pytest

from tests.support.bounce_mail import bounce_mail
from webapp.bounces.service.reports import Forged, read
from webapp.feedback.schemas import FeedbackKind, FeedbackSource

MESSAGE_ID = "<1.a1b2c3d4@mailroom.example.com>"


@pytest.mark.parametrize("name", ["postfix-hard", "exchange-hard"])
def test_a_permanent_failure_is_a_hard_bounce_of_the_signed_delivery(name):
    [event] = read(bounce_mail(name, delivery_id=41, recipient="gone@example.org"))
    assert event.kind is FeedbackKind.BOUNCED and event.bounce_type == "hard"
    assert event.source is FeedbackSource.MAILBOX
    assert event.delivery_id == 41 and event.email == "gone@example.org" and event.message_id == MESSAGE_ID
    assert event.detail.startswith("5.1.1") if name == "postfix-hard" else "RecipientNotFound" in event.detail
    assert event.at.tzinfo is not None and event.source_id.endswith(">")


def test_a_failure_with_a_temporary_status_is_a_soft_bounce():
    [event] = read(bounce_mail("postfix-soft", delivery_id=7))
    assert event.kind is FeedbackKind.BOUNCED and event.bounce_type == "soft"
    assert event.detail == "4.2.2 452 4.2.2 Mailbox full"


def test_a_delay_notice_is_deferred():
    [event] = read(bounce_mail("gmail-delayed", delivery_id=7))
    assert event.kind is FeedbackKind.DEFERRED and event.bounce_type is None
    assert event.delivery_id == 7 and event.message_id == MESSAGE_ID and "Connection timed out" in event.detail


def test_an_abuse_report_is_a_complaint_about_the_original_recipient():
    [event] = read(bounce_mail("arf-abuse", delivery_id=9, recipient="angry@example.net"))
    assert event.kind is FeedbackKind.COMPLAINED and event.email == "angry@example.net"
    assert event.delivery_id == 9  # from Original-Mail-From: the report itself went to the bare bounce address
    assert event.message_id == MESSAGE_ID and event.detail == "feedback type abuse"


def test_an_auto_reply_reports_nothing():
    assert read(bounce_mail("auto-reply", delivery_id=3)) == []


@pytest.mark.parametrize("name", ["postfix-hard", "arf-abuse"])
def test_a_report_to_a_forged_return_path_is_refused(name):
    with pytest.raises(Forged):
        read(bounce_mail(name, delivery_id=41, forged=True))


def test_a_report_without_a_return_path_is_found_by_message_id_and_recipient():
    raw = bounce_mail("postfix-hard", delivery_id=41).replace(b"bounces+", b"other+")
    raw = raw.replace(b"Delivered-To: other+", b"Delivered-To: x").replace(b"To: other+", b"To: x")
    [event] = read(raw)
    assert event.delivery_id is None and event.message_id == MESSAGE_ID and event.email == "person1@example.com"


def test_a_report_about_two_recipients_gives_each_event_an_id_of_its_own():
    raw = bounce_mail("postfix-soft", delivery_id=7)
    second = b"\r\nFinal-Recipient: rfc822; other@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    raw = raw.replace(
        b"Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n",
        b"Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n" + second,
    )
    first, other = read(raw)
    assert (first.email, other.email) == ("person1@example.com", "other@example.org")
    assert other.bounce_type == "hard" and other.source_id == first.source_id + "#1"


@pytest.mark.parametrize(
    "raw", [b"", b"\xff\xfe garbage", b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno parts"]
)
def test_damaged_mail_reports_nothing(raw):
    assert read(raw) == []


def test_a_complaint_with_the_recipient_redacted_still_names_the_message():
    raw = bounce_mail("arf-abuse", delivery_id=9, recipient="angry@example.net")
    raw = raw.replace(b"Original-Rcpt-To: <angry@example.net>\r\n", b"")
    [event] = read(raw)
    assert event.kind is FeedbackKind.COMPLAINED and event.email == ""
    assert event.delivery_id == 9 and event.message_id == MESSAGE_ID


def test_an_internationalised_dsn_is_read_like_any_other():
    """RFC 6533: a bounce of mail to an internationalised address, its status part as UTF-8."""
    raw = bounce_mail("postfix-hard", delivery_id=41, recipient="jörg@exämple.org")
    raw = raw.replace(b"Content-Type: message/delivery-status", b"Content-Type: message/global-delivery-status")
    raw = raw.replace(b"report-type=delivery-status", b"report-type=global-delivery-status")
    [event] = read(raw)
    assert event.kind is FeedbackKind.BOUNCED and event.bounce_type == "hard"
    assert event.email == "jörg@exämple.org" and event.delivery_id == 41 and "5.1.1" in event.detail
