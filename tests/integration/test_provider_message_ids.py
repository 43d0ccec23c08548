"""The id an API provider gives a message it takes (SES MessageId, SendGrid's X-Message-Id, Postmark's
MessageID, Mailgun's id) is kept on the delivery by the batch's record, and a provider's report that
carries it (signed and posted as the provider does) is about that delivery, even when the recipient
has been sent a later message and the report quotes no Message-ID of ours."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import text

from tests.integration.test_esp_webhooks import (
    MAILGUN_KEY,
    POSTMARK,
    configured,  # noqa: F401  (fixture: every feedback source set up)
    post,
)
from tests.integration.test_feedback_record import hard_bounce, record, sent_campaign
from tests.integration.test_provider_apis import KINDS
from tests.support import esp
from tests.support.campaigns import audience, ready_campaign, sent_by_a_worker
from tests.support.esp_apis import EspApi, add_provider, esp_api

SIZE = 3


async def sent_through(db, worker, api: EspApi) -> int:
    """A campaign to person0..2@example.com sent by a worker through the provider `api` serves."""
    await add_provider(db, api)
    email_list = await audience(db, SIZE)
    campaign = await ready_campaign(db, [email_list.id])
    await sent_by_a_worker(db, worker, campaign.id)
    return campaign.id


async def stored_ids(db, campaign_id: int) -> dict[str, str]:
    rows = await db.execute(
        text("SELECT email, provider_message_id FROM deliveries WHERE campaign_id = :c"), {"c": campaign_id}
    )
    return dict(rows.all())


@pytest.mark.parametrize("kind", KINDS)
async def test_the_providers_id_of_each_message_is_kept_on_its_delivery(db, worker, kind) -> None:
    with esp_api(kind) as api:
        campaign_id = await sent_through(db, worker, api)

    given = {taken.recipient: taken.provider_message_id for taken in api.taken}
    assert len(given) == SIZE and all(given.values())
    assert await stored_ids(db, campaign_id) == given


def ses_bounce(email: str, provider_id: str) -> tuple[bytes, dict[str, str]]:
    """SES without the original headers (they are optional): only its own mail.messageId."""
    payload = copy.deepcopy(esp.fixture("ses")["payloads"]["bounce_transient_no_headers"])
    payload["bounce"]["bounceType"] = "Permanent"
    payload["bounce"]["bouncedRecipients"][0]["emailAddress"] = email
    payload["mail"]["messageId"] = provider_id
    return json.dumps(esp.sns_message(payload)).encode(), {}


def sendgrid_bounce(email: str, provider_id: str) -> tuple[bytes, dict[str, str]]:
    """sg_message_id is the request's X-Message-Id, then SendGrid's own part per recipient."""
    (event,) = [e for e in esp.fixture("sendgrid")["payload"] if e["event"] == "bounce" and e["type"] == "bounce"]
    sg_message_id = f"{provider_id}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0"
    body = json.dumps([{**event, "email": email, "sg_message_id": sg_message_id}]).encode()
    return body, esp.sendgrid_headers(body)


def postmark_bounce(email: str, provider_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({**esp.fixture("postmark")["payloads"]["bounce"], "Email": email, "MessageID": provider_id})
    return body.encode(), esp.basic_auth(*POSTMARK)


def mailgun_failure(email: str, provider_id: str) -> tuple[bytes, dict[str, str]]:
    payload = copy.deepcopy(esp.fixture("mailgun")["payloads"]["failed_permanent"])
    payload["event-data"]["recipient"] = email
    payload["event-data"]["message"]["headers"]["message-id"] = provider_id.strip("<>")
    return json.dumps(esp.mailgun_signed(payload, MAILGUN_KEY)).encode(), {}


WEBHOOKS = {
    "ses": ("/webhooks/amazon-ses", ses_bounce),
    "sendgrid": ("/webhooks/sendgrid", sendgrid_bounce),
    "postmark": ("/webhooks/postmark", postmark_bounce),
    "mailgun": ("/webhooks/mailgun", mailgun_failure),
}


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("kind", KINDS)
async def test_a_report_with_the_providers_id_is_about_that_message_not_the_latest(
    db, worker, live_server, kind
) -> None:
    with esp_api(kind) as api:
        first_id = await sent_through(db, worker, api)
    provider_ids = await stored_ids(db, first_id)
    await sent_campaign(db, size=SIZE, name="Later")  # the same addresses, sent again since
    path, bounce = WEBHOOKS[kind]

    answer = post(live_server, path, *bounce("person1@example.com", provider_ids["person1@example.com"]))

    assert (answer.status_code, answer.json()["new"]) == (200, 1), answer.text
    rows = await db.execute(text("SELECT email, campaign_id FROM deliveries WHERE status = 'bounced'"))
    assert rows.all() == [("person1@example.com", first_id)]


async def test_the_providers_id_is_tried_before_our_message_id_and_only_with_its_recipient(db) -> None:
    """SendGrid gives one id to every message of a request: the recipient tells them apart."""
    _, (ann, bob, cy) = await sent_campaign(db)
    later_id, _ = await sent_campaign(db, name="Later")
    await db.execute(
        text("UPDATE deliveries SET provider_message_id = 'request-1' WHERE id = ANY(:ids)"), {"ids": [ann.id, bob.id]}
    )
    await db.commit()

    recorded = await record(
        db,
        [
            hard_bounce(bob.email, "b1", provider_message_id="request-1", message_id=ann.message_id),
            hard_bounce(cy.email, "b2", provider_message_id="request-1"),  # not cy's: the latest to cy
        ],
    )

    assert recorded.new == 2
    rows = await db.execute(text("SELECT id, campaign_id FROM deliveries WHERE status = 'bounced' ORDER BY email"))
    (bob_bounced, bob_campaign), (_, cy_campaign) = rows.all()
    assert bob_bounced == bob.id and bob_campaign == bob.campaign_id
    assert cy_campaign == later_id
