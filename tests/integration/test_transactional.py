"""POST /api/tx and GET /api/tx/{id} against the real server, the message sent by a real worker
to a real SMTP server: at once, from the template with the request's data, tracked like campaign
mail but without list headers; idempotent by the client's key; refused for opted-out addresses;
rate limited per API key."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
from sqlalchemy import text

from tests.integration.test_send_faults import start_campaign
from tests.integration.test_send_stops import CONNECTIONS, wait_for
from tests.support.campaigns import smtp_server
from tests.support.events import apply_events
from tests.support.smtp import RecordingHandler, SmtpSink
from tests.support.transactional import tx_message, tx_template
from webapp.campaigns.service import listing
from webapp.core.redis import get_redis
from webapp.delivery import transactional_mail
from webapp.delivery.broker import broker
from webapp.suppression.service.suppression import add as suppress
from webapp.transactional import actors as tx_actors

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
NO_TICK = {"MAILROOM_SCHEDULER_INTERVAL": "3600"}  # only the request's own queue message can send it


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def until_status(client: httpx.Client, tx_id: int, wanted: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while (found := client.get(f"/api/tx/{tx_id}").json())["status"] != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"message {tx_id} is {found['status']}, not {wanted}, after {timeout}s")
        await asyncio.sleep(0.1)
    return found


async def until_data_forgotten(db, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (data := await db.scalar(text("SELECT data FROM tx_messages"))) != {}:
        await db.commit()
        if time.monotonic() > deadline:
            raise AssertionError(f"the message's data is still kept: {data}")
        await asyncio.sleep(0.1)


async def test_a_message_goes_at_once_with_the_data_and_is_tracked_without_list_headers(db, api, worker, live_server):
    template_id = await tx_template(db)
    await db.execute(
        text("INSERT INTO contacts (email, first_name, status) VALUES ('ada@example.com', 'Ada', 'pending')")
    )
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        sender = worker("tx-worker", **NO_TICK)
        client = await api("editor")
        body = {"template_id": template_id, "to": "ada@example.com", "data": {"order_id": "A-17"}}
        queued = client.post("/api/tx", json=body)
        assert queued.status_code == 202, queued.text
        assert (queued.json()["status"], queued.json()["to"]) == ("pending", "ada@example.com")
        sent = await until_status(client, queued.json()["id"], "sent")
        sender.stop()  # the test applies the click itself

    assert sent["sent_at"] is not None and sent["error"] == ""
    await until_data_forgotten(db)  # its data (a reset link, an order) is not kept once it is sent
    [message] = sink.messages
    assert message["To"] == "ada@example.com" and message["Subject"] == "Your order A-17"
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert message["List-Id"] is None
    html = message.get_body(("html",)).get_content()
    assert "Hello Ada, your order A-17 is on its way." in html
    assert "1 Test Street" in html and "Mailroom Tests Ltd" in html, "the sender's name and address"
    assert "/u/unsubscribe/" not in html and "Unsubscribe" not in html
    assert "/u/o/" in html and "https://example.com/help" not in html

    await db.execute(text("UPDATE deliveries SET sent_at = sent_at - interval '1 hour'"))  # sooner: a scanner's
    await db.commit()
    tracked = re.search(r'href="https?://[^/"]+(/u/c/[^"]+)"', html)
    assert tracked is not None
    answer = httpx.get(live_server + tracked.group(1), headers={"User-Agent": BROWSER})
    assert answer.status_code == 302 and answer.headers["location"] == "https://example.com/help"
    await apply_events()
    clicked = client.get(f"/api/tx/{sent['id']}").json()
    assert clicked["status"] == "clicked" and clicked["clicked_at"] is not None
    campaign = (
        await db.execute(
            text("SELECT id, kind, sent_count, clicked_count FROM campaigns WHERE template_id = :t"), {"t": template_id}
        )
    ).one()
    assert (campaign.sent_count, campaign.clicked_count) == (1, 1), "counted on the template's campaign"
    assert campaign.kind == "transactional", "routed as transactional mail"
    listed = await listing.find_campaigns(db)
    assert campaign.id not in [c.id for c in listed.campaigns], "the transactional campaign is hidden"
    contacts = await db.scalar(text("SELECT count(*) FROM contacts"))
    assert contacts == 1, "no contact is made for a transactional message"


async def test_a_retry_with_the_same_key_answers_with_the_first_message_and_another_body_is_a_conflict(db, api):
    template_id = await tx_template(db)
    client = await api("editor")
    body = {"template_id": template_id, "to": "bob@example.com", "data": {"order_id": "B-1"}}
    first = client.post("/api/tx", json=body, headers={"Idempotency-Key": "order-B-1"})
    again = client.post("/api/tx", json={**body, "to": "BOB@example.com", "idempotency_key": "order-B-1"})
    other = client.post("/api/tx", json={**body, "data": {"order_id": "B-2"}}, headers={"Idempotency-Key": "order-B-1"})
    unkeyed = client.post("/api/tx", json=body)

    assert first.status_code == 202, first.text
    assert again.status_code == 200 and again.json() == first.json()
    assert first.json()["idempotency_key"] == "order-B-1"
    assert other.status_code == 409 and "idempotency_key" in fields(other)
    assert unkeyed.status_code == 202 and unkeyed.json()["id"] != first.json()["id"]
    assert await db.scalar(text("SELECT count(*) FROM deliveries")) == 2
    mismatch = client.post("/api/tx", json={**body, "idempotency_key": "a"}, headers={"Idempotency-Key": "b"})
    assert mismatch.status_code == 422 and "idempotency_key" in fields(mismatch)
    long_header = client.post("/api/tx", json=body, headers={"Idempotency-Key": "k" * 201})
    long_field = client.post("/api/tx", json={**body, "idempotency_key": "k" * 201})
    assert (long_header.status_code, long_field.status_code) == (422, 422), (
        "a key too long is the same error either way"
    )
    assert "200" in fields(long_header)["idempotency_key"] and "200" in fields(long_field)["idempotency_key"]


async def test_an_address_that_opted_out_or_is_suppressed_is_refused_naming_to(db, api):
    template_id = await tx_template(db)
    await db.execute(
        text("""INSERT INTO contacts (email, status, is_active) VALUES
                ('gone@example.com', 'unsubscribed', true), ('bounced@example.com', 'bounced', true),
                ('spam@example.com', 'complained', true), ('off@example.com', 'active', false)""")
    )
    await suppress(db, "blocked@example.com", "manual", source="test")  # no contact has it
    await db.commit()
    client = await api("editor")

    for to in ("gone@example.com", "bounced@example.com", "spam@example.com", "off@example.com", "blocked@example.com"):
        refused = client.post("/api/tx", json={"template_id": template_id, "to": to, "data": {"order_id": "1"}})
        assert refused.status_code == 422, to
        assert "to" in fields(refused), to
    assert await db.scalar(text("SELECT count(*) FROM deliveries")) == 0


async def test_a_missing_inactive_or_marketing_template_is_refused_naming_template_id(db, api):
    marketing = await tx_template(db, template_type="marketing")
    inactive = await tx_template(db, is_active=False)
    client = await api("editor")
    for template_id in (marketing, inactive, 999_999):
        refused = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
        assert refused.status_code == 422 and "template_id" in fields(refused), template_id
    assert client.get("/api/tx/999999").status_code == 404
    assert (await api("viewer")).post(
        "/api/tx", json={"template_id": marketing, "to": "a@example.com"}
    ).status_code == 403


async def test_an_api_key_past_its_rate_limit_gets_429_with_retry_after(db, api):
    template_id = await tx_template(db)
    client = await api("editor")
    key_id = await db.scalar(text("SELECT max(id) FROM api_keys"))
    await get_redis().set(f"tx-rate:{key_id}", 600, ex=42)  # this key sent its 600 messages of the minute
    limited = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
    other_key = (await api("editor")).post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})

    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 42
    assert other_key.status_code == 202, "the limit is each key's own"


async def test_staff_see_each_templates_messages_with_their_status_opens_and_clicks(db, staff, api):
    template_id = await tx_template(db)
    await api("editor")
    key_id = await db.scalar(text("SELECT max(id) FROM api_keys"))
    opened = await tx_message(db, key_id, template_id, "ada@example.com", {"order_id": "A-1"})
    await tx_message(db, key_id, template_id, "bob@example.com", {"order_id": "B-1"})
    doubtful = await tx_message(db, key_id, template_id, "cy@example.com", {"order_id": "C-1"})
    await db.execute(text("UPDATE deliveries SET status = 'in_doubt' WHERE tx_message_id = :m"), {"m": doubtful})
    await db.execute(
        text("UPDATE deliveries SET status = 'opened', sent_at = now(), opened_at = now() WHERE tx_message_id = :m"),
        {"m": opened},
    )
    await db.execute(
        text("UPDATE campaigns SET sent_count = 1, opened_count = 1 WHERE template_id = :t"), {"t": template_id}
    )
    await db.commit()
    viewer = await staff("viewer")

    listing = viewer.get("/transactional")
    assert listing.status_code == 200
    row = re.search(rf'<tr id="tx-template-{template_id}">(.*?)</tr>', listing.text, re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]
    assert cells[:5] == ["Receipt", "3", "1", "1", "1 (100.0%)"]  # template, messages, sent, waiting, opens
    assert cells[-1] == "1"  # in doubt: every message is in one column

    messages = viewer.get(f"/transactional/{template_id}")
    assert messages.status_code == 200
    assert re.search(r"ada@example.com</td>\s*<td><span class=\"badge delivery-opened\">opened", messages.text)
    assert re.search(r"bob@example.com</td>\s*<td><span class=\"badge delivery-pending\">pending", messages.text)
    assert viewer.get("/transactional/999999").status_code == 404


async def test_an_address_that_opts_out_after_the_request_is_not_sent_the_message(db, api, worker):
    template_id = await tx_template(db)
    await db.execute(text("INSERT INTO contacts (email, status) VALUES ('ada@example.com', 'active')"))
    await db.commit()
    client = await api("editor")
    queued = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
    assert queued.status_code == 202, queued.text
    await db.execute(text("UPDATE contacts SET status = 'unsubscribed' WHERE email = 'ada@example.com'"))
    await db.commit()
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        worker("tx-opted-out")
        skipped = await until_status(client, queued.json()["id"], "skipped")

    assert sink.messages == []
    assert skipped["error"] == "Not sent: the contact is unsubscribed."


async def test_a_worker_of_its_own_sends_a_message_at_once_while_campaign_batches_hold_every_thread_of_the_others(
    db, api, worker
):
    campaign_mail = RecordingHandler(holds=lambda recipient: recipient.startswith("person"))
    with SmtpSink(handler=campaign_mail) as sink:
        sink.hold()  # the campaign's messages wait in DATA: its batches keep their worker threads
        await start_campaign(db, 400, sink.port)
        template_id = await tx_template(db)
        worker("tx-general", lanes=("--skip-queues", "transactional"))

        async def every_connection_held() -> bool:
            return sink.held == CONNECTIONS

        await wait_for(every_connection_held, "the campaign holding every connection")
        worker("tx-lane", lanes=("--queues", "transactional"))
        client = await api("editor")
        queued = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
        await until_status(client, queued.json()["id"], "sent")
        assert sink.held == CONNECTIONS, "the campaign is still held"
        assert sink.handler.recipients() == ["ada@example.com"]


async def test_each_message_goes_as_its_template_is_now_and_its_data_is_checked(db, api):
    template_id = await tx_template(db)
    client = await api("editor")
    first = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
    await db.execute(
        text("UPDATE email_templates SET subject = 'Receipt {{ order_id }}' WHERE id = :t"), {"t": template_id}
    )
    await db.commit()
    second = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
    too_big = client.post(
        "/api/tx", json={"template_id": template_id, "to": "ada@example.com", "data": {"x": "y" * 17_000}}
    )
    not_an_address = client.post("/api/tx", json={"template_id": template_id, "to": "nobody"})
    a_list = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com", "data": ["A-17"]})

    assert (first.status_code, second.status_code) == (202, 202)
    campaigns = (await db.execute(text("SELECT subject, total_recipients FROM campaigns"))).all()
    assert [tuple(c) for c in campaigns] == [("Receipt {{ order_id }}", 2)], "one campaign per template, as it is now"
    assert too_big.status_code == 422 and "data" in fields(too_big)
    assert not_an_address.status_code == 422 and "to" in fields(not_an_address)
    assert a_list.status_code == 422 and list(fields(a_list)) == ["data"], a_list.text


async def test_a_message_the_server_defers_is_sent_again_by_the_scheduler_tick(db, api, worker):
    template_id = await tx_template(db)

    def defer_first_attempt(address: str, attempt: int) -> str | None:
        return "451 4.7.1 Try again later" if attempt == 1 else None

    with SmtpSink(defer_first_attempt) as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        worker("tx-retry")
        client = await api("editor")
        queued = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
        await until_status(client, queued.json()["id"], "sent")

    assert sink.handler.recipients() == ["ada@example.com"]
    assert await db.scalar(text("SELECT attempts FROM deliveries")) == 2


async def test_messages_sent_on_request_never_keep_the_tick_from_starting_the_sender_of_due_ones(db, api):
    """Each request's message is sent under a heartbeat of its own: a steady stream of requests
    must not look like a worker sending the due messages (retries would wait for a quiet moment)."""
    template_id = await tx_template(db)
    client = await api("editor")
    due = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})  # left pending
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        requested = client.post("/api/tx", json={"template_id": template_id, "to": "bob@example.com"}).json()
        delivery_id = await db.scalar(
            text("SELECT id FROM deliveries WHERE tx_message_id = :m"), {"m": requested["id"]}
        )
        await db.commit()
        assert await transactional_mail.send(delivery_id)  # as its queue message runs it
    assert sink.handler.recipients() == ["bob@example.com"] and due.status_code == 202
    redis = get_redis()
    queue = f"{broker.namespace}:{tx_actors.QUEUE}"  # where the Redis broker queues messages
    await redis.delete(queue)  # the requests' own queue messages
    await tx_actors.start_if_due()
    assert await redis.llen(queue) == 1, "the tick started the sender of the due message"


async def test_a_message_being_handed_over_when_its_worker_dies_is_in_doubt_and_never_sent_again(db, api, worker):
    template_id = await tx_template(db)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        sink.hold()  # the server takes the message's content but does not answer yet
        first = worker("tx-dies")
        client = await api("editor")
        queued = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})

        async def handed_over() -> bool:
            return sink.held == 1

        await wait_for(handed_over, "the message handed over")
        first.kill()
        sink.release()  # whether the server keeps it depends on it: the dead worker never hears
        worker("tx-after")
        found = await until_status(client, queued.json()["id"], "in_doubt")

    assert len(sink.handler.recipients()) <= 1, "never sent twice"
    assert found["error"].startswith("Not sent again: the worker stopped while handing it to the SMTP server")


async def test_a_message_its_template_cannot_render_with_the_data_is_refused_before_it_is_queued(db, api):
    template_id = await tx_template(db)
    await db.execute(
        text("UPDATE email_templates SET html_content = :html WHERE id = :t"),
        {"html": "<p>Hello</p>\n<p>Total: {{ order.total | round }}</p>", "t": template_id},
    )
    await db.execute(
        text("INSERT INTO contacts (email, status, custom_fields) VALUES ('ada@example.com', 'active', :f)"),
        {"f": '{"order": {"total": 12.5}}'},
    )
    await db.commit()
    client = await api("editor")

    without = client.post("/api/tx", json={"template_id": template_id, "to": "grace@example.com"})
    wrong_kind = client.post(
        "/api/tx", json={"template_id": template_id, "to": "grace@example.com", "data": {"order": {"total": "a"}}}
    )
    assert without.status_code == 422 and list(fields(without)) == ["data"], without.text
    assert fields(without)["data"].startswith("The template fails with this data (HTML): Line 2:"), without.text
    assert "'order' is undefined" in fields(without)["data"]
    assert wrong_kind.status_code == 422 and "data" in fields(wrong_kind), wrong_kind.text
    assert await db.scalar(text("SELECT count(*) FROM tx_messages")) == 0, "a refused request leaves nothing"

    with_data = client.post(
        "/api/tx", json={"template_id": template_id, "to": "grace@example.com", "data": {"order": {"total": 3}}}
    )
    from_the_contact = client.post("/api/tx", json={"template_id": template_id, "to": "ada@example.com"})
    assert (with_data.status_code, from_the_contact.status_code) == (202, 202), from_the_contact.text
