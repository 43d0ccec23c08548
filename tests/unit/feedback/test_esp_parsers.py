"""Each provider's recorded payloads (tests/fixtures/esp/, from its documentation) become the
FeedbackEvents we record; what we do not use is acknowledged and left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from tests.support import esp
from webapp.feedback.schemas import FeedbackKind, FeedbackSource
from webapp.feedback.service import event_key
from webapp.feedback.service.providers import Refused, generic, mailgun, postmark, sendgrid, ses, storable


def _ses(name: str):
    return ses.events("sns-1", json.dumps(esp.fixture("ses")["payloads"][name]))


def test_ses_permanent_bounce_is_hard_with_our_message_id_not_ses_own():
    (event,) = _ses("bounce")
    assert (event.source, event.kind, event.bounce_type) == (FeedbackSource.SES, FeedbackKind.BOUNCED, "hard")
    assert event.email == "jane@example.com"
    assert event.message_id == "<custom-message-ID>"  # from mail.headers; mail.messageId is SES's
    assert event.at == datetime(2016, 1, 27, 14, 59, 38, 237000, tzinfo=UTC)
    assert "5.1.1" in event.detail and "550 5.1.1" in event.detail
    assert event.source_id == "sns-1"


def test_ses_transient_bounce_without_headers_is_soft_and_has_no_message_id():
    (event,) = _ses("bounce_transient_no_headers")
    assert (event.kind, event.bounce_type, event.message_id) == (FeedbackKind.BOUNCED, "soft", None)
    assert "MailboxFull" in event.detail


def test_ses_other_kinds():
    (complaint,) = _ses("complaint")
    assert (complaint.kind, complaint.email, complaint.detail) == (
        FeedbackKind.COMPLAINED,
        "richard@example.com",
        "abuse",
    )
    (delivery,) = _ses("delivery")
    assert (delivery.kind, delivery.email) == (FeedbackKind.DELIVERED, "jane@example.com")
    (opened,) = _ses("open")
    assert (opened.kind, opened.email) == (FeedbackKind.OPENED, "recipient@example.com")
    assert opened.user_agent.startswith("Mozilla/5.0 (iPhone")
    (clicked,) = _ses("click")
    assert (clicked.kind, clicked.url) == (
        FeedbackKind.CLICKED,
        "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
    )
    (delayed,) = _ses("delivery_delay")
    assert (delayed.kind, delayed.bounce_type) == (FeedbackKind.DEFERRED, None)
    assert "421 4.4.1" in delayed.detail
    (unsubscribed,) = _ses("subscription")
    assert unsubscribed.kind == FeedbackKind.UNSUBSCRIBED


def test_ses_kinds_we_do_not_use_give_no_events():
    assert _ses("rendering_failure") == []
    assert ses.events("sns-2", json.dumps({"eventType": "Send", "mail": {}})) == []


def test_an_ses_bounce_for_several_recipients_gives_one_event_each_with_its_own_key():
    payload = esp.fixture("ses")["payloads"]["bounce"]
    payload["bounce"]["bouncedRecipients"].append({"emailAddress": "mary@example.com", "status": "5.1.1"})
    events = ses.events("sns-3", json.dumps(payload))
    assert [e.email for e in events] == ["jane@example.com", "mary@example.com"]
    assert len({event_key(e) for e in events}) == 2


def test_sendgrid_events():
    events = {e.source_id: e for e in sendgrid.events(json.dumps(esp.fixture("sendgrid")["payload"]).encode())}
    kinds = {e.kind for e in events.values()}
    assert kinds == set(FeedbackKind)
    assert len(events) == 10  # all but processed and group_resubscribe
    bounce = events["6g4ZI7SA-xmRDv57GoPIPw=="]
    assert (bounce.kind, bounce.bounce_type, bounce.email) == (FeedbackKind.BOUNCED, "hard", "example@test.com")
    assert bounce.message_id == "<14c5d75ce93.dfd.64b469@ismtpd-555>"
    assert bounce.at == datetime.fromtimestamp(1513299569, UTC)
    assert "500 unknown recipient" in bounce.detail
    assert events["blocked6g4ZI7SA-xmRDv57GoPIPw=="].bounce_type == "soft"
    dropped = events["zmzJhfJgAfUSOW80yEbPyw=="]
    assert (dropped.kind, dropped.bounce_type) == (FeedbackKind.BOUNCED, "hard")
    assert events["37nvH5QBz858KGVYCM4uOA=="].kind == FeedbackKind.COMPLAINED
    assert events["ahSCB7xYcXFb-hEaawsPRw=="].kind == FeedbackKind.UNSUBSCRIBED
    assert events["kCAi1KttyQdEKHhdC-nuEA=="].url == "http://www.sendgrid.com/"
    assert events["t7LEShmowp86DTdUW8M-GQ=="].kind == FeedbackKind.DEFERRED


def test_a_sendgrid_body_that_is_no_array_is_malformed():
    with pytest.raises(Refused) as caught:
        sendgrid.events(b'{"event": "bounce"}')
    assert caught.value.status == 400


def _postmark(name: str):
    return postmark.events(json.dumps(esp.fixture("postmark")["payloads"][name]).encode())


def test_postmark_records():
    (bounce,) = _postmark("bounce")
    assert (bounce.source, bounce.kind, bounce.bounce_type) == (FeedbackSource.POSTMARK, FeedbackKind.BOUNCED, "hard")
    assert (bounce.email, bounce.message_id) == ("john@example.com", None)  # Postmark's MessageID is not ours
    assert bounce.source_id == "Bounce:4323372036854775807"
    assert bounce.at.year == 2019
    assert _postmark("soft_bounce")[0].bounce_type == "soft"
    assert _postmark("spam_complaint")[0].kind == FeedbackKind.COMPLAINED
    assert _postmark("delivery")[0].kind == FeedbackKind.DELIVERED
    assert _postmark("open")[0].user_agent.startswith("Mozilla/5.0 (Macintosh")
    assert _postmark("click")[0].url == "https://example.com"
    (change,) = _postmark("subscription_change")
    assert (change.kind, change.bounce_type, change.email) == (
        FeedbackKind.BOUNCED,
        "hard",
        "bounced-address@wildbit.com",
    )


def test_postmark_records_we_do_not_use_give_no_events():
    auto_reply = {**esp.fixture("postmark")["payloads"]["bounce"], "Type": "AutoResponder"}
    reactivated = {**esp.fixture("postmark")["payloads"]["subscription_change"], "SuppressSending": False}
    for record in (auto_reply, reactivated, {"RecordType": "Inbound"}):
        assert postmark.events(json.dumps(record).encode()) == []


def _mailgun(name: str):
    return mailgun.events(esp.fixture("mailgun")["payloads"][name])


def test_mailgun_events():
    (failed,) = _mailgun("failed_permanent")
    assert (failed.kind, failed.bounce_type, failed.email) == (FeedbackKind.BOUNCED, "hard", "alice@example.com")
    assert failed.message_id == "<20130503182626.18666.16540@sandbox.mailgun.org>"
    assert failed.source_id == "G9Bn5sl1TC6nu79C8C0bwg"
    assert "605" in failed.detail
    (temporary,) = _mailgun("failed_temporary")
    assert (temporary.kind, temporary.bounce_type) == (FeedbackKind.DEFERRED, None)
    assert _mailgun("delivered")[0].kind == FeedbackKind.DELIVERED
    assert _mailgun("complained")[0].kind == FeedbackKind.COMPLAINED
    clicked = _mailgun("clicked")[0]
    assert clicked.url and clicked.url.startswith("https://documentation.mailgun.com/")
    assert clicked.user_agent.startswith("Mozilla/5.0 (X11")
    assert _mailgun("accepted") == []


def test_each_provider_names_the_message_by_its_own_id_as_its_sending_api_gave_it():
    """SES's mail.messageId; SendGrid's X-Message-Id, the start of sg_message_id; Postmark's MessageID;
    Mailgun's id, which it quotes as the message-id header without the angle brackets of its reply."""
    assert _ses("bounce")[0].provider_message_id == "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"
    sendgrid_events = {e.source_id: e for e in sendgrid.events(json.dumps(esp.fixture("sendgrid")["payload"]).encode())}
    assert sendgrid_events["6g4ZI7SA-xmRDv57GoPIPw=="].provider_message_id == "14c5d75ce93.dfd.64b469"
    assert _postmark("bounce")[0].provider_message_id == "883953f4-6105-42a2-a16a-77a8eac79483"
    failed = _mailgun("failed_permanent")[0]
    assert failed.provider_message_id == "<20130503182626.18666.16540@sandbox.mailgun.org>"


@pytest.mark.parametrize(
    ("sg_message_id", "request_id"),
    [
        ("03_Wof6nRbqqzxRvLpZbfw.filter0017p3mdw1-11399-59ADB335-16.0", "03_Wof6nRbqqzxRvLpZbfw"),
        ("jk9JhWEhRg6ow8FLYrTthA.recvd-7b4d9b8c94-4s2bx-1-62C6A1B0-8.0", "jk9JhWEhRg6ow8FLYrTthA"),
        ("not-one-of-sendgrids", None),  # another shape: left to our Message-ID and the recipient
    ],
)
def test_sendgrids_id_of_the_request_is_the_start_of_sg_message_id(sg_message_id, request_id):
    (event,) = [e for e in esp.fixture("sendgrid")["payload"] if e["event"] == "bounce" and e["type"] == "bounce"]
    (parsed,) = sendgrid.events(json.dumps([{**event, "sg_message_id": sg_message_id}]).encode())
    assert parsed.provider_message_id == request_id


def test_generic_events():
    body = {
        "events": [
            {"id": "e1", "type": "bounced", "email": "a@example.com", "timestamp": "2026-01-02T03:04:05Z",
             "message_id": "<m1@example.com>", "bounce_type": "hard", "detail": "550 5.1.1 no such user"},
            {"id": "e2", "type": "clicked", "email": "b@example.com", "timestamp": "2026-01-02T03:04:05+01:00",
             "url": "https://example.com/x"},
            {"id": "e3", "type": "exploded", "email": "c@example.com", "timestamp": "2026-01-02T03:04:05Z"},
        ]
    }  # fmt: skip
    bounced, clicked = generic.events(json.dumps(body).encode())
    assert (bounced.source, bounced.kind, bounced.bounce_type) == (FeedbackSource.GENERIC, FeedbackKind.BOUNCED, "hard")
    assert (bounced.message_id, bounced.detail) == ("<m1@example.com>", "550 5.1.1 no such user")
    assert (clicked.kind, clicked.url, clicked.bounce_type) == (FeedbackKind.CLICKED, "https://example.com/x", None)


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        b"[]",
        b'{"events": [{"id": "x"}]}',
        b'{"events": [{"id": 1, "type": "bounced", "email": "a", "timestamp": "x"}]}',
    ],
)
def test_a_generic_body_off_the_documented_shape_is_malformed(body):
    with pytest.raises(Refused) as caught:
        generic.events(body)
    assert caught.value.status == 400


def test_storable_events_hold_no_nul_and_a_real_time_in_utc():
    item = {
        "id": "a\u0000",
        "type": "bounced",
        "email": "a@example.com\u0000",
        "timestamp": "2026-01-02T03:04:05-23:59",
        "detail": "550\u0000x",
    }
    (event,) = generic.events(json.dumps({"events": [item]}).encode())
    stored = storable(event)
    assert (stored.source_id, stored.email, stored.detail) == ("a", "a@example.com", "550x")
    assert stored.at == event.at and stored.at.utcoffset() == timedelta(0)
    future = storable(msgspec.structs.replace(event, at=datetime(2999, 1, 1, tzinfo=UTC)))
    assert future.at < datetime.now(UTC) + timedelta(minutes=1)
    ancient = storable(msgspec.structs.replace(event, at=datetime(1970, 1, 1, tzinfo=UTC)))
    assert ancient.at.year >= 2026
