"""The providers' webhooks on the running app: a hard bounce reported by each provider, in the shape
its documentation records and signed as the provider signs, suppresses the address; a source that is
not configured, a bad signature, a replay, malformed JSON or an oversized body are refused with a
short JSON answer, never a 500."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from sqlalchemy import text

from tests.integration.test_feedback_rates import sending_campaign
from tests.integration.test_feedback_record import campaign, sent_campaign
from tests.support import esp
from webapp.core.redis import get_redis
from webapp.delivery import progress
from webapp.feedback.service import sns_certificates
from webapp.settings.service import feedback_sources
from webapp.settings.service.feedback_sources import FeedbackSources
from webapp.suppression.service import suppression

POSTMARK = ("postmark-hook", "postmark-password-0123")
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
GENERIC_SECRET = "generic-secret-0123456789abcdef"
ALL_SOURCES = FeedbackSources(
    ses_topics=(esp.TOPIC,),
    sendgrid_key=esp.sendgrid_public_key(),
    postmark_user=POSTMARK[0],
    postmark_password=POSTMARK[1],
    mailgun_key=MAILGUN_KEY,
    generic_secret=GENERIC_SECRET,
)


@pytest.fixture
async def configured(db):
    """Every source configured, and SNS's certificate for the test key already fetched (cached)."""
    await feedback_sources.save(db, ALL_SOURCES)
    await db.commit()
    await get_redis().set(sns_certificates.redis_key(esp.CERT_URL), esp.sns_pem())


def post(base: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{base}{path}", content=body, headers={"Content-Type": "application/json", **(headers or {})})


def ses_bounce(email: str, message_id: str) -> bytes:
    payload = copy.deepcopy(esp.fixture("ses")["payloads"]["bounce"])
    payload["bounce"]["bouncedRecipients"][0]["emailAddress"] = email
    for header in payload["mail"]["headers"]:
        if header["name"] == "Message-ID":
            header["value"] = message_id
    return json.dumps(esp.sns_message(payload)).encode()


def sendgrid_bounce(email: str, message_id: str) -> tuple[bytes, dict[str, str]]:
    (event,) = [e for e in esp.fixture("sendgrid")["payload"] if e["event"] == "bounce" and e["type"] == "bounce"]
    body = json.dumps([{**event, "email": email, "smtp-id": message_id}]).encode()
    return body, esp.sendgrid_headers(body)


def postmark_bounce(email: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({**esp.fixture("postmark")["payloads"]["bounce"], "Email": email}).encode()
    return body, esp.basic_auth(*POSTMARK)


def mailgun_failure(email: str, message_id: str, key: str = MAILGUN_KEY) -> bytes:
    payload = copy.deepcopy(esp.fixture("mailgun")["payloads"]["failed_permanent"])
    payload["event-data"]["recipient"] = email
    payload["event-data"]["message"]["headers"]["message-id"] = message_id.strip("<>")
    return json.dumps(esp.mailgun_signed(payload, key)).encode()


def generic_bounce(email: str, message_id: str) -> tuple[bytes, dict[str, str]]:
    event = {"id": "g-1", "type": "bounced", "email": email, "timestamp": "2026-12-05T06:00:00Z",
             "message_id": message_id, "bounce_type": "hard", "detail": "550 5.1.1 user unknown"}  # fmt: skip
    body = json.dumps({"events": [event]}).encode()
    return body, esp.generic_headers(GENERIC_SECRET, body)


async def test_a_hard_bounce_from_each_provider_suppresses_the_address(db, live_server, configured):
    _, deliveries = await sent_campaign(db, size=6)
    ses_to, sendgrid_to, postmark_to, mailgun_to, generic_to, untouched = deliveries

    answers = {
        "ses": post(live_server, "/webhooks/amazon-ses", ses_bounce(ses_to.email, ses_to.message_id)),
        "sendgrid": post(
            live_server, "/webhooks/sendgrid", *sendgrid_bounce(sendgrid_to.email, sendgrid_to.message_id)
        ),
        "postmark": post(live_server, "/webhooks/postmark", *postmark_bounce(postmark_to.email)),
        "mailgun": post(live_server, "/webhooks/mailgun", mailgun_failure(mailgun_to.email, mailgun_to.message_id)),
        "generic": post(live_server, "/webhooks/generic", *generic_bounce(generic_to.email, generic_to.message_id)),
    }

    for provider, answer in answers.items():
        assert (answer.status_code, answer.json()["new"]) == (200, 1), (provider, answer.text)
        assert "set-cookie" not in answer.headers  # no session, no CSRF cookie
    for delivery in (ses_to, sendgrid_to, postmark_to, mailgun_to, generic_to):
        assert await suppression.is_suppressed(db, delivery.email), delivery.email
    assert not await suppression.is_suppressed(db, untouched.email)


async def test_nothing_is_accepted_from_a_source_that_is_not_configured(db, live_server):
    _, (delivery,) = await sent_campaign(db, size=1)
    requests = {
        "/webhooks/amazon-ses": (ses_bounce(delivery.email, delivery.message_id), {}),
        "/webhooks/sendgrid": sendgrid_bounce(delivery.email, delivery.message_id),
        "/webhooks/postmark": postmark_bounce(delivery.email),
        "/webhooks/mailgun": (mailgun_failure(delivery.email, delivery.message_id), {}),
        "/webhooks/generic": generic_bounce(delivery.email, delivery.message_id),
    }
    for path, (body, headers) in requests.items():
        answer = post(live_server, path, body, headers)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["detail"] == "This feedback source is not configured."
    assert not await suppression.is_suppressed(db, delivery.email)


async def test_unauthentic_requests_are_refused_with_json_and_change_nothing(db, live_server, configured):
    _, (delivery,) = await sent_campaign(db, size=1)
    email, message_id = delivery.email, delivery.message_id
    tampered_sns = json.loads(ses_bounce(email, message_id))
    tampered_sns["Message"] = tampered_sns["Message"].replace("Permanent", "Transient")
    other_topic = {**tampered_sns, "TopicArn": esp.TOPIC + "-other"}
    forged_sns = esp.sns_message(
        json.loads(tampered_sns["Message"]), cert_url="https://sns.us-east-1.amazonaws.com.evil.com/x.pem"
    )
    sendgrid_body, sendgrid_headers = sendgrid_bounce(email, message_id)
    generic_body, generic_headers = generic_bounce(email, message_id)
    refusals = [
        ("/webhooks/amazon-ses", json.dumps(tampered_sns).encode(), {}, 401),
        ("/webhooks/amazon-ses", json.dumps(other_topic).encode(), {}, 403),
        ("/webhooks/amazon-ses", json.dumps(forged_sns).encode(), {}, 403),
        ("/webhooks/sendgrid", sendgrid_body.replace(b"bounce", b"bounced"), sendgrid_headers, 401),
        ("/webhooks/sendgrid", sendgrid_body, {}, 401),
        ("/webhooks/postmark", postmark_bounce(email)[0], esp.basic_auth(POSTMARK[0], "wrong"), 401),
        ("/webhooks/postmark", postmark_bounce(email)[0], {}, 401),
        ("/webhooks/mailgun", mailgun_failure(email, message_id, key="another-signing-key-0123"), {}, 401),
        ("/webhooks/generic", generic_body + b" ", generic_headers, 401),
        ("/webhooks/generic", generic_body, {}, 401),
    ]
    for path, body, headers, status in refusals:
        answer = post(live_server, path, body, headers)
        assert answer.status_code == status, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["detail"]
    assert post(live_server, "/webhooks/postmark", b"{}").headers["www-authenticate"].startswith("Basic")
    assert not await suppression.is_suppressed(db, email)


async def test_a_mailgun_token_is_accepted_once(db, live_server, configured):
    _, (delivery,) = await sent_campaign(db, size=1)
    body = mailgun_failure(delivery.email, delivery.message_id)
    assert post(live_server, "/webhooks/mailgun", body).status_code == 200
    replayed = post(live_server, "/webhooks/mailgun", body)
    assert (replayed.status_code, replayed.json()["detail"]) == (401, "This Mailgun signature was used already.")


async def test_a_repeated_sns_message_records_nothing_twice(db, live_server, configured):
    _, (delivery,) = await sent_campaign(db, size=1)
    body = ses_bounce(delivery.email, delivery.message_id)
    first, again = post(live_server, "/webhooks/amazon-ses", body), post(live_server, "/webhooks/amazon-ses", body)
    assert (first.json()["new"], again.json()["new"], again.json()["repeated"]) == (1, 0, 1)


async def test_authentic_messages_we_do_not_use_are_acknowledged(db, live_server, configured):
    unused = esp.sns_message(esp.fixture("ses")["payloads"]["rendering_failure"])
    answer = post(live_server, "/webhooks/amazon-ses", json.dumps(unused).encode())
    assert (answer.status_code, answer.json()["received"]) == (200, 0)
    unsubscribed = esp.sns_message("You were unsubscribed", type="UnsubscribeConfirmation")
    assert post(live_server, "/webhooks/amazon-ses", json.dumps(unsubscribed).encode()).status_code == 200


async def test_malformed_and_oversized_bodies(db, live_server, configured):
    not_json = b"{not json"
    assert post(live_server, "/webhooks/amazon-ses", not_json).status_code == 400
    assert (
        post(live_server, "/webhooks/generic", not_json, esp.generic_headers(GENERIC_SECRET, not_json)).status_code
        == 400
    )
    assert post(live_server, "/webhooks/postmark", not_json, esp.basic_auth(*POSTMARK)).status_code == 400
    big = b"[" + b" " * (1024 * 1024) + b"]"
    answer = post(live_server, "/webhooks/sendgrid", big, esp.sendgrid_headers(big))
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("application/json")


async def test_a_subscription_is_confirmed_only_for_an_allowlisted_topic(db, live_server, configured):
    """A confirmation for another topic is refused before anything is fetched (the allowlisted case
    GETs the SubscribeURL on Amazon: see tests/integration/test_sns_certificates.py)."""
    other = esp.sns_message("Confirm", type="SubscriptionConfirmation", topic=esp.TOPIC + "-other")
    answer = post(live_server, "/webhooks/amazon-ses", json.dumps(other).encode())
    assert (answer.status_code, answer.json()["detail"]) == (403, "This SNS topic is not allowed.")


DEEP = b"[" * 50_000 + b"]" * 50_000  # deeper than any JSON decoder's recursion


async def test_authentic_but_hostile_bodies_never_make_a_500(db, live_server, configured):
    """Signed as the provider signs, so they reach the parsers: NUL characters (which PostgreSQL
    text cannot hold), wrong types, impossible times and nesting deeper than the decoder goes."""
    _, (delivery,) = await sent_campaign(db, size=1)
    email, nul = delivery.email, "\u0000"
    nul_bounce = {
        "id": "n" + nul,
        "type": "bounced",
        "email": email + nul,
        "timestamp": "2026-12-05T06:00:00Z",
        "message_id": f"<{nul}>",
        "bounce_type": "hard",
        "detail": "550" + nul,
        "user_agent": nul,
    }
    generic_bodies = [
        DEEP,
        {"events": [nul_bounce]},
        {"events": [{**nul_bounce, "id": "late", "timestamp": "9999-12-31T23:59:59-23:59"}]},
        {"events": [{**nul_bounce, "id": 5}]},
    ]
    nul_sendgrid = {
        "event": "bounce",
        "sg_event_id": "x" + nul,
        "email": email + nul,
        "timestamp": 1e300,
        "smtp-id": nul,
        "reason": nul,
    }
    odd_click = {"event": "click", "sg_event_id": "c", "email": email, "url": nul, "timestamp": -1e15}
    sendgrid_bodies = [DEEP, [1, "x", None, [], {"event": ["bounce"]}], [nul_sendgrid], [odd_click]]
    postmark_bodies = [
        DEEP,
        {"RecordType": "Bounce", "Type": "HardBounce", "ID": nul, "Email": [], "BouncedAt": 5},
        {"RecordType": "Bounce", "Type": "HardBounce", "ID": 7, "Email": email + nul},
    ]
    nul_failure = {
        "event": "failed",
        "id": nul,
        "recipient": email,
        "timestamp": "x",
        "message": {"headers": {"message-id": 5}},
        "delivery-status": {"code": nul},
    }
    mailgun_payloads = [{"event-data": nul_failure}, {"event-data": [1, 2]}]
    nul_recipient = {"emailAddress": email + nul, "diagnosticCode": nul}
    sns_messages = [
        esp.sns_message("[" * 50_000),
        esp.sns_message({"notificationType": "Bounce", "bounce": []}),
        esp.sns_message({"notificationType": "Bounce", "bounce": {"bouncedRecipients": [nul_recipient]}}),
    ]

    def encoded(body: object) -> bytes:
        return body if isinstance(body, bytes) else json.dumps(body).encode()

    generic = [encoded(b) for b in generic_bodies]
    sendgrid = [encoded(b) for b in sendgrid_bodies]
    answers = [post(live_server, "/webhooks/generic", b, esp.generic_headers(GENERIC_SECRET, b)) for b in generic]
    answers += [post(live_server, "/webhooks/sendgrid", b, esp.sendgrid_headers(b)) for b in sendgrid]
    answers += [post(live_server, "/webhooks/postmark", encoded(b), esp.basic_auth(*POSTMARK)) for b in postmark_bodies]
    answers += [
        post(live_server, "/webhooks/mailgun", encoded(esp.mailgun_signed(p, MAILGUN_KEY))) for p in mailgun_payloads
    ]
    answers += [post(live_server, "/webhooks/amazon-ses", encoded(m)) for m in sns_messages]
    answers += [post(live_server, path, DEEP) for path in ("/webhooks/amazon-ses", "/webhooks/mailgun")]
    for answer in answers:
        assert answer.status_code in (200, 400), (answer.request.url, answer.request.content[:200], answer.text)


async def test_complaints_that_pause_a_campaign_are_announced_to_its_live_pages(db, live_server, configured):
    """Three complaints in a thousand delivered pause the campaign (feedback's rule); the webhook then
    tells the campaign's live pages, as a staff pause does."""
    campaign_id, deliveries = await sending_campaign(db, 1000)
    listener = get_redis().pubsub()
    await listener.subscribe(progress.channel(campaign_id))
    await listener.get_message(timeout=1)  # the subscription's own confirmation
    events = [
        {"email": d.email, "timestamp": 1513299569, "smtp-id": d.message_id, "event": "spamreport",
         "sg_event_id": f"spam-{d.id}"}
        for d in deliveries
    ]  # fmt: skip
    body = json.dumps(events).encode()

    assert post(live_server, "/webhooks/sendgrid", body, esp.sendgrid_headers(body)).status_code == 200

    message = await listener.get_message(timeout=10)
    await listener.aclose()
    assert message is not None, "no status event on the campaign's channel"
    event = json.loads(message["data"])
    assert (event["type"], event["campaign"]["status"]) == ("campaign_status", "paused")
    assert (await campaign(db, campaign_id)).status == "paused"


async def test_reports_find_the_message_by_our_message_id_wherever_the_provider_quotes_it(db, live_server, configured):
    """SES in the original headers, SendGrid as smtp-id, Mailgun without angle brackets, generic as
    sent: each bounce lands on the earlier campaign's message, not the address's latest."""
    first_id, (ses_to, sendgrid_to, mailgun_to, generic_to) = await sent_campaign(db, size=4)
    await sent_campaign(db, size=4, name="Later")  # the same addresses, sent again since

    post(live_server, "/webhooks/amazon-ses", ses_bounce(ses_to.email, ses_to.message_id))
    post(live_server, "/webhooks/sendgrid", *sendgrid_bounce(sendgrid_to.email, sendgrid_to.message_id))
    post(live_server, "/webhooks/mailgun", mailgun_failure(mailgun_to.email, mailgun_to.message_id))
    post(live_server, "/webhooks/generic", *generic_bounce(generic_to.email, generic_to.message_id))

    db.expire_all()
    rows = await db.execute(text("SELECT email, campaign_id FROM deliveries WHERE status = 'bounced'"))
    bounced = dict(rows.all())
    assert bounced == {d.email: first_id for d in (ses_to, sendgrid_to, mailgun_to, generic_to)}
