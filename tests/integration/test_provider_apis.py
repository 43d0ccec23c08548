"""Messages through each API provider, against local servers that speak the providers' documented
APIs: what each receives, how their replies map onto the Mailer's outcomes (taken, throttled,
refused for one recipient, the provider unusable, in doubt), micro-batching, and the Test call."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.support.esp_apis import DROP, Reply, add_provider, esp_api
from webapp.delivery import smtp_config
from webapp.delivery.compose import Envelope, build_message
from webapp.delivery.mailer import InDoubt, PermanentFailure, Throttled, Unreachable
from webapp.delivery.smtp_session import ServerDown
from webapp.delivery.transports.base import Route, TransportRef
from webapp.delivery.transports.kinds import check

KINDS = ["ses", "sendgrid", "postmark", "mailgun"]
UNSUBSCRIBE = "<https://mailroom.test/u/unsubscribe/abc>"


def message(to: str, html: str = "<p>Hello</p>") -> bytes:
    envelope = Envelope(
        from_name="News",
        from_email="news@mailroom.test",
        to_email=to,
        subject=f"Hello {to.split('@')[0]}",
        message_id=f"<{to.split('@')[0]}.1@mailroom.test>",
        list_unsubscribe=UNSUBSCRIBE,
    )
    return build_message(envelope, html, "Hello")


async def send(to: str, mailer=None, html: str = "<p>Hello</p>") -> TransportRef:
    mailer = mailer or await smtp_config.fresh_mailer()
    return await mailer.send("bounce@mailroom.test", to, message(to, html), route=Route.to(to, "marketing"))


@pytest.mark.parametrize("kind", KINDS)
async def test_a_message_goes_through_each_providers_api_with_its_headers(db, kind) -> None:
    with esp_api(kind) as api:
        provider = await add_provider(db, api)
        taken_by = await send("ann@example.com")

    assert taken_by.by == TransportRef("provider", provider.id, provider.name)
    (taken,) = api.taken
    assert taken.recipient == "ann@example.com"
    assert taken.subject == "Hello ann"
    assert "<p>Hello</p>" in taken.html
    assert taken.headers["List-Unsubscribe"] == UNSUBSCRIBE
    assert taken.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("kind", ["postmark", "mailgun"])
async def test_an_address_that_answers_with_a_web_page_is_named_without_its_markup(db, live_server, kind) -> None:
    with esp_api(kind) as api:
        wrong_place = await add_provider(db, api, base_url=live_server)  # Mailroom's own 404 page, in HTML
        with pytest.raises(ServerDown) as refused:
            await check(smtp_config.provider_target(wrong_place))

    said = str(refused.value)
    assert "404 Not Found (an HTML page: is the API address right?)" in said, said
    assert "<" not in said and "doctype" not in said.lower()


@pytest.mark.parametrize("kind", KINDS)
async def test_the_test_call_signs_in_and_sends_nothing(db, kind) -> None:
    with esp_api(kind) as api:
        provider = await add_provider(db, api)
        said = await check(smtp_config.provider_target(provider))
        wrong = await add_provider(db, api, name="wrong", **dict.fromkeys(api.credentials, "wrong"))
        with pytest.raises(ServerDown):
            await check(smtp_config.provider_target(wrong))

    assert said.startswith("Signed in to")
    assert api.taken == [] and api.send_requests == 0
    with pytest.raises(ServerDown) as gone:  # the server has stopped: nothing answers on its port now
        await check(smtp_config.provider_target(provider))
    assert "Cannot connect to 127.0.0.1: Connection refused." in str(gone.value), str(gone.value)


async def test_messages_sent_together_go_in_one_postmark_batch_and_an_inactive_recipient_is_refused(db) -> None:
    with esp_api("postmark") as api:
        api.refused.add("gone@example.com")
        await add_provider(db, api, batch_size=10)
        mailer = await smtp_config.fresh_mailer()
        addresses = [f"p{i}@example.com" for i in range(6)] + ["gone@example.com"]
        results = await asyncio.gather(*(send(a, mailer) for a in addresses), return_exceptions=True)
        await mailer.close()

    assert api.send_requests == 1
    assert sorted(api.recipients()) == sorted(addresses[:-1])
    refused = results[-1]
    assert isinstance(refused, PermanentFailure) and refused.mailbox_refused
    assert "inactive" in str(refused)


async def test_sendgrid_shares_one_request_between_messages_and_sends_a_large_one_alone(db) -> None:
    with esp_api("sendgrid") as api:
        await add_provider(db, api)
        mailer = await smtp_config.fresh_mailer()
        large = "<p>" + "x" * 12_000 + "</p>"
        await asyncio.gather(
            send("a@example.com", mailer), send("b@example.com", mailer), send("c@example.com", mailer, large)
        )
        await mailer.close()

    assert api.send_requests == 2
    subjects = {t.recipient: t.subject for t in api.taken}
    assert subjects == {"a@example.com": "Hello a", "b@example.com": "Hello b", "c@example.com": "Hello c"}
    assert next(t for t in api.taken if t.recipient == "c@example.com").html.count("x") >= 12_000


async def test_an_address_sendgrid_refuses_fails_alone_and_the_rest_of_its_request_goes(db) -> None:
    with esp_api("sendgrid") as api:
        api.refused.add("bad@example.com")
        await add_provider(db, api)
        mailer = await smtp_config.fresh_mailer()
        addresses = ["a@example.com", "bad@example.com", "b@example.com"]
        results = await asyncio.gather(*(send(a, mailer) for a in addresses), return_exceptions=True)
        await mailer.close()

    assert api.send_requests == 2
    assert sorted(api.recipients()) == ["a@example.com", "b@example.com"]
    refused = results[1]
    assert isinstance(refused, PermanentFailure) and not refused.mailbox_refused
    assert re.search(r"personalizations\.\d\.to\.0\.email", str(refused))


@pytest.mark.parametrize("kind", KINDS)
async def test_a_throttled_provider_asks_to_retry_after_the_time_it_gives(db, kind) -> None:
    with esp_api(kind) as api:
        api.replies.append(Reply(429, {"message": "Too many requests"}, {"Retry-After": "120"}))
        await add_provider(db, api)
        with pytest.raises(Throttled) as throttled:
            await send("ann@example.com")

    assert throttled.value.retry_after == 120
    assert api.taken == []


async def test_a_failing_provider_is_left_for_the_next_one(db) -> None:
    with esp_api("mailgun") as first, esp_api("postmark") as second:
        first.replies.append(Reply(503, "Service Unavailable"))
        await add_provider(db, first, priority=0)
        backup = await add_provider(db, second, priority=1)
        taken_by = await send("ann@example.com")

    assert taken_by.by.provider_id == backup.id
    assert first.taken == [] and second.recipients() == ["ann@example.com"]


async def test_a_request_cut_off_after_it_was_sent_is_in_doubt_and_goes_nowhere_else(db) -> None:
    with esp_api("ses") as first, esp_api("sendgrid") as second:
        first.replies.append(DROP)
        await add_provider(db, first, priority=0)
        await add_provider(db, second, priority=1)
        with pytest.raises(InDoubt):
            await send("ann@example.com")

    assert first.recipients() == ["ann@example.com"] and second.taken == []


async def test_ses_message_rejected_is_the_messages_fault_not_the_mailboxes(db) -> None:
    rejected = Reply(400, {"message": "Email address is not verified."}, {"x-amzn-ErrorType": "MessageRejected"})
    with esp_api("ses") as api:
        api.replies.append(rejected)
        await add_provider(db, api)
        with pytest.raises(PermanentFailure) as refused:
            await send("ann@example.com")

    assert not refused.value.mailbox_refused and "not verified" in str(refused.value)


async def test_bad_credentials_make_a_provider_unusable_not_the_message_failed(db) -> None:
    with esp_api("postmark") as api:
        await add_provider(db, api, server_token="not-the-token")
        with pytest.raises(Unreachable) as unreachable:
            await send("ann@example.com")

    assert "authentication failed" in str(unreachable.value)
