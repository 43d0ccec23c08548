"""Each inbound webhook's authentication, as pure functions: a good request passes; a tampered body,
a wrong key, an old timestamp or a certificate from anywhere but Amazon SNS does not."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support import esp
from webapp.feedback.service.providers import Refused, generic, mailgun, postmark, sendgrid, sns

NOW = datetime.now(UTC)


@contextmanager
def refused(status: int) -> Iterator[None]:
    with pytest.raises(Refused) as caught:
        yield
    assert caught.value.status == status, caught.value.reason


# ---- Amazon SNS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("kind", ["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_sns_signatures_of_both_versions_and_every_message_type_verify(version, kind):
    message = esp.sns_message({"notificationType": "Bounce"}, type=kind, version=version)
    parsed = sns.envelope(json.dumps(message).encode())
    sns.verify(parsed, esp.sns_certificate(), NOW)


def test_a_notification_without_a_subject_signs_no_subject_line():
    """SNS leaves Subject out (or sends null) when the publisher gave none; the canonical string then
    has no Subject line at all, not an empty one."""
    message = esp.sns_message("{}")
    with_subject = sns.canonical(message)
    message["Subject"] = None
    assert b"Subject" in with_subject
    assert sns.canonical(message) == with_subject.replace(b"Subject\nAmazon SES Email Event Notification\n", b"")


def test_a_tampered_sns_message_is_refused():
    message = esp.sns_message({"notificationType": "Bounce"})
    message["Message"] = message["Message"].replace("Bounce", "Delivery")
    with refused(401):
        sns.verify(message, esp.sns_certificate(), NOW)


def test_an_sns_message_signed_by_another_key_is_refused():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = esp.sns_message({"notificationType": "Bounce"}, key=other)
    with refused(401):
        sns.verify(message, esp.sns_certificate(), NOW)


def test_an_unknown_signature_version_or_a_bad_base64_signature_is_refused():
    message = esp.sns_message("{}")
    with refused(401):
        sns.verify({**message, "SignatureVersion": "3"}, esp.sns_certificate(), NOW)
    with refused(401):
        sns.verify({**message, "Signature": "not base64!"}, esp.sns_certificate(), NOW)


def test_an_expired_certificate_is_refused():
    message = esp.sns_message("{}")
    with refused(401):
        sns.verify(message, esp.sns_certificate(), NOW + timedelta(days=365))


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem",
    ],
)
def test_certificate_urls_on_sns_are_accepted(url):
    assert sns.certificate_url({"SigningCertURL": url}) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
        "https://evil.com/sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
        "https://evil.com#@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:8443/x.pem",
        "https://sns.US-EAST-1.amazonaws.com/x.pem",
        "https://sns.us_east_1.amazonaws.com/x.pem",
        "https://sqs.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com/x.pem.txt",
        "https://sns.us-east-1.amazonaws.com/x.pem?x=1",
        "",
    ],
)
def test_certificate_urls_anywhere_else_are_refused(url):
    with refused(403):
        sns.certificate_url({"SigningCertURL": url})


def test_the_subscribe_url_must_be_on_sns_too():
    good = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x"
    assert sns.subscribe_url({"SubscribeURL": good}) == good
    for bad in ("http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription", "https://evil.com/?Action=x"):
        with refused(403):
            sns.subscribe_url({"SubscribeURL": bad})


def test_only_allowlisted_topics_pass():
    sns.check_topic({"TopicArn": esp.TOPIC}, {esp.TOPIC})
    with refused(403):
        sns.check_topic({"TopicArn": esp.TOPIC + "-other"}, {esp.TOPIC})


def test_a_body_that_is_not_an_sns_message_is_malformed():
    for body in (b"not json", b"[]", b'{"Type": "Other"}'):
        with refused(400):
            sns.envelope(body)


# ---- SendGrid -----------------------------------------------------------------------------------

BODY = json.dumps(esp.fixture("sendgrid")["payload"]).encode()


def test_a_sendgrid_signature_verifies():
    headers = esp.sendgrid_headers(BODY)
    key = sendgrid.public_key(esp.sendgrid_public_key())
    sendgrid.verify(key, headers[sendgrid.SIGNATURE_HEADER], headers[sendgrid.TIMESTAMP_HEADER], BODY)


def test_a_tampered_sendgrid_body_or_timestamp_is_refused():
    headers = esp.sendgrid_headers(BODY)
    key = sendgrid.public_key(esp.sendgrid_public_key())
    signature, timestamp = headers[sendgrid.SIGNATURE_HEADER], headers[sendgrid.TIMESTAMP_HEADER]
    with refused(401):
        sendgrid.verify(key, signature, timestamp, BODY.replace(b"bounce", b"bounced"))
    with refused(401):
        sendgrid.verify(key, signature, str(int(timestamp) + 1), BODY)


def test_a_sendgrid_body_signed_with_another_key_or_unsigned_is_refused():
    other = ec.generate_private_key(ec.SECP256R1())
    headers = esp.sendgrid_headers(BODY, key=other)
    key = sendgrid.public_key(esp.sendgrid_public_key())
    with refused(401):
        sendgrid.verify(key, headers[sendgrid.SIGNATURE_HEADER], headers[sendgrid.TIMESTAMP_HEADER], BODY)
    with refused(401):
        sendgrid.verify(key, "", headers[sendgrid.TIMESTAMP_HEADER], BODY)
    with refused(401):
        sendgrid.verify(key, "%%%", headers[sendgrid.TIMESTAMP_HEADER], BODY)


def test_only_a_p256_public_key_is_a_sendgrid_verification_key():
    assert sendgrid.public_key(esp.sendgrid_public_key())
    p384 = esp.sendgrid_public_key(ec.generate_private_key(ec.SECP384R1()))
    for bad in ("", "not base64", "AAAA", p384):
        with pytest.raises(ValueError):
            sendgrid.public_key(bad)


# ---- Postmark -----------------------------------------------------------------------------------


def test_postmark_basic_auth():
    postmark.check_auth(esp.basic_auth("hook", "s3cret:with colon")["Authorization"], "hook", "s3cret:with colon")
    for header in (
        esp.basic_auth("hook", "wrong")["Authorization"],
        esp.basic_auth("other", "s3cret")["Authorization"],
        "Bearer abc",
        "Basic not-base64!",
        "",
    ):
        with refused(401):
            postmark.check_auth(header, "hook", "s3cret")


# ---- Mailgun ------------------------------------------------------------------------------------

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def test_a_mailgun_signature_verifies_and_gives_its_token():
    signed = esp.mailgun_signed(esp.fixture("mailgun")["payloads"]["failed_permanent"], MAILGUN_KEY)
    assert mailgun.verify(MAILGUN_KEY, signed, time.time()) == signed["signature"]["token"]


def test_a_mailgun_signature_with_another_key_or_altered_token_is_refused():
    signed = esp.mailgun_signed(esp.fixture("mailgun")["payloads"]["failed_permanent"], MAILGUN_KEY)
    with refused(401):
        mailgun.verify("another-key", signed, time.time())
    altered = {**signed, "signature": {**signed["signature"], "token": "0" * 50}}
    with refused(401):
        mailgun.verify(MAILGUN_KEY, altered, time.time())


def test_the_recorded_mailgun_signature_is_too_old_to_replay():
    """The documentation's own example, re-signed with our key at its 2018 timestamp."""
    payload = esp.fixture("mailgun")["payloads"]["failed_permanent"]
    signed = esp.mailgun_signed(payload, MAILGUN_KEY, timestamp=int(payload["signature"]["timestamp"]))
    with refused(401):
        mailgun.verify(MAILGUN_KEY, signed, time.time())
    late = esp.mailgun_signed(payload, MAILGUN_KEY, timestamp=int(time.time()) - mailgun.REPLAY_WINDOW_SECONDS - 5)
    with refused(401):
        mailgun.verify(MAILGUN_KEY, late, time.time())


# ---- generic ------------------------------------------------------------------------------------

SECRET = "whsec_generic_test_secret_0123456789"


def test_a_generic_signature_verifies_alone_or_beside_another_during_a_secret_change():
    body = b'{"events": []}'
    headers = esp.generic_headers(SECRET, body)
    signature, timestamp = headers["Mailroom-Signature"], headers["Mailroom-Timestamp"]
    other = "v1=" + "0" * 64
    for header in (signature, f"{signature} {other}", f"{other} {signature}"):
        generic.verify(SECRET, header, timestamp, body, time.time())


def test_a_generic_request_tampered_wrongly_signed_or_old_is_refused():
    body = b'{"events": []}'
    headers = esp.generic_headers(SECRET, body)
    signature, timestamp = headers["Mailroom-Signature"], headers["Mailroom-Timestamp"]
    old = esp.generic_headers(SECRET, body, timestamp=int(time.time()) - 301)
    for args in (
        (SECRET, signature, timestamp, body + b" "),
        ("another secret", signature, timestamp, body),
        (SECRET, old["Mailroom-Signature"], old["Mailroom-Timestamp"], body),
        (SECRET, "", timestamp, body),
        (SECRET, "v1=" + "0" * 64 + " v1=" + "1" * 64, timestamp, body),
        (SECRET, " ".join(["v1=" + "0" * 64] * 4 + [signature]), timestamp, body),  # past the few a header holds
        (SECRET, signature, "", body),
        ("", signature, timestamp, body),
    ):
        with refused(401):
            generic.verify(*args, time.time())
