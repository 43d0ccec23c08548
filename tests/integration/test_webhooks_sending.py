"""Sending webhooks to a real HTTP receiver in the test process: the payload and its signature,
retries with backoff after 5xx answers, redirects not followed, the delivery log, replay, switching
an endpoint off after repeated failures, and the SSRF rule at send time."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from sqlalchemy import select, update

from webapp.webhooks.models import WebhookDelivery, WebhookEndpoint
from webapp.webhooks.service import endpoints, outbox, sending


async def add_endpoint(db, url: str, events=("contact.created",), allow_private: bool = True) -> tuple[int, str]:
    endpoint, secret = await endpoints.create_endpoint(
        db, {"url": url, "event_types": list(events), "allow_private": allow_private}
    )
    await db.commit()
    return endpoint.id, secret


async def deliveries(db) -> list[WebhookDelivery]:
    db.expire_all()
    return list(await db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def make_due_again(db) -> None:
    """Skip the backoff wait: what the clock would do."""
    await db.execute(update(WebhookDelivery).values(next_attempt_at=WebhookDelivery.created_at))
    await db.commit()


async def test_a_signed_event_reaches_the_subscribed_endpoints_only(db, receiver):
    _, secret = await add_endpoint(db, receiver.url + "/hooks")
    await add_endpoint(db, receiver.url + "/other", events=["campaign.completed"])
    await outbox.emit(db, "contact.created", {"contact_id": 7, "email": "ada@example.com"})
    await outbox.emit(db, "email.opened", {"contact_id": 7})  # nobody subscribed
    await db.commit()

    assert await sending.deliver_due() == 1
    [request] = receiver.requests
    assert request.path == "/hooks"
    payload = json.loads(request.body)
    assert payload["type"] == "contact.created" and payload["data"] == {"contact_id": 7, "email": "ada@example.com"}
    assert set(payload) == {"id", "type", "created_at", "data"}
    timestamp = request.headers["mailroom-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["mailroom-signature"] == "v1=" + expected
    assert request.headers["mailroom-event-id"] == payload["id"]
    assert request.headers["content-type"] == "application/json"

    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    assert delivery.response_body.startswith("answer 200") and len(delivery.response_body) == 1000
    assert delivery.duration_ms is not None and delivery.error == ""
    assert await sending.deliver_due() == 0  # nothing is sent twice


async def test_failures_are_retried_with_backoff_until_the_receiver_answers(db, receiver, staff):
    endpoint_id, _ = await add_endpoint(db, receiver.url)
    receiver.answers = [500, 503]
    await outbox.emit(db, "contact.created", {"contact_id": 1})
    await db.commit()

    assert await sending.deliver_due() == 1
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.response_code, delivery.error) == ("pending", 500, "The endpoint answered 500")
    first_wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert 29 <= first_wait <= 31
    assert await sending.deliver_due() == 0  # not due yet
    log = (await staff("admin")).get(f"/settings/webhooks/{endpoint_id}").text
    assert f"next try {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}" in log  # half a minute away: to the second

    await make_due_again(db)
    assert await sending.deliver_due() == 1
    [delivery] = await deliveries(db)
    assert (delivery.attempts, delivery.response_code) == (2, 503)
    assert 59 <= (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() <= 61  # doubled

    await make_due_again(db)
    assert await sending.deliver_due() == 1
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("succeeded", 3, 200, "")
    assert len(receiver.requests) == 3
    assert len({r.headers["mailroom-event-id"] for r in receiver.requests}) == 1  # the same event each time


async def test_a_delivery_is_given_up_after_a_day(db, receiver):
    await add_endpoint(db, receiver.url)
    receiver.answers = [500]
    await outbox.emit(db, "contact.created", {"contact_id": 1})
    await db.execute(
        update(WebhookDelivery).values(created_at=WebhookDelivery.created_at - timedelta(hours=24, seconds=-10))
    )
    await db.commit()
    await sending.deliver_due()
    [delivery] = await deliveries(db)
    assert delivery.status == "failed" and delivery.response_code == 500


async def test_redirects_are_not_followed(db, receiver):
    await add_endpoint(db, receiver.url)
    receiver.answers = [302]
    await outbox.emit(db, "contact.created", {"contact_id": 1})
    await db.commit()
    await sending.deliver_due()
    [delivery] = await deliveries(db)
    assert delivery.response_code == 302 and "redirects are not followed" in delivery.error
    assert [r.path for r in receiver.requests] == ["/"]


async def test_replay_sends_the_same_event_again_and_logs_it(db, receiver, staff):
    endpoint_id, _ = await add_endpoint(db, receiver.url)
    await outbox.emit(db, "contact.created", {"contact_id": 1})
    await db.commit()
    await sending.deliver_due()
    [original] = await deliveries(db)

    admin = await staff("admin")
    log = admin.get(f"/settings/webhooks/{endpoint_id}").text
    assert f'id="webhook-delivery-{original.id}"' in log and "answer 200" in log and " ms<" in log
    response = admin.post(f"/settings/webhooks/{endpoint_id}/deliveries/{original.id}/replay")
    assert response.status_code == 303
    assert await sending.deliver_due() == 1
    original, replayed = await deliveries(db)
    assert (replayed.replay_of, replayed.status, replayed.event_id) == (original.id, "succeeded", original.event_id)
    assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body
    assert f"replay of {original.id}" in admin.get(f"/settings/webhooks/{endpoint_id}").text
    assert admin.post(f"/settings/webhooks/{endpoint_id}/deliveries/999/replay").status_code == 404


async def test_an_endpoint_that_keeps_failing_is_switched_off_with_a_notice(db, receiver, staff):
    endpoint_id, _ = await add_endpoint(db, receiver.url)
    receiver.answers = [500] * sending.DISABLE_AFTER_FAILURES
    await outbox.emit_many(db, "contact.created", [{"contact_id": i} for i in range(sending.DISABLE_AFTER_FAILURES)])
    await db.commit()
    await sending.deliver_due()

    db.expire_all()
    endpoint = await db.get(WebhookEndpoint, endpoint_id)
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert endpoint.disabled_reason == f"{sending.DISABLE_AFTER_FAILURES} deliveries in a row failed"
    admin = await staff("admin")
    page = admin.get("/settings/webhooks").text
    assert f"{receiver.url} was switched off" in page and "deliveries in a row failed" in page

    await make_due_again(db)
    assert await sending.deliver_due() == 0  # nothing goes to a switched-off endpoint
    await outbox.emit(db, "contact.created", {"contact_id": 99})
    await db.commit()
    assert len(await deliveries(db)) == sending.DISABLE_AFTER_FAILURES  # nor is anything queued for it

    # Ticking "Active" again starts afresh, and the waiting deliveries go out.
    admin.post(
        f"/settings/webhooks/{endpoint_id}/edit",
        data={"url": receiver.url, "event_types": "contact.created", "is_active": "yes", "allow_private": "yes"},
    )
    db.expire_all()
    endpoint = await db.get(WebhookEndpoint, endpoint_id)
    assert endpoint.is_active and endpoint.consecutive_failures == 0 and endpoint.disabled_at is None
    assert "was switched off" not in admin.get("/settings/webhooks").text
    assert await sending.deliver_due() == sending.DISABLE_AFTER_FAILURES


async def test_an_endpoint_failing_for_a_day_is_switched_off(db, receiver):
    endpoint_id, _ = await add_endpoint(db, receiver.url)
    await db.execute(
        update(WebhookEndpoint).values(
            consecutive_failures=3, failing_since=WebhookEndpoint.created_at - timedelta(hours=25)
        )
    )
    receiver.answers = [500]
    await outbox.emit(db, "contact.created", {"contact_id": 1})
    await db.commit()
    await sending.deliver_due()
    db.expire_all()
    endpoint = await db.get(WebhookEndpoint, endpoint_id)
    assert not endpoint.is_active and endpoint.disabled_reason == "every delivery failed for 24 hours"


async def test_a_success_resets_the_failure_count(db, receiver):
    endpoint_id, _ = await add_endpoint(db, receiver.url)
    receiver.answers = [500, 500, 200]
    await outbox.emit_many(db, "contact.created", [{"contact_id": i} for i in range(3)])
    await db.commit()
    await sending.deliver_due()
    db.expire_all()
    endpoint = await db.get(WebhookEndpoint, endpoint_id)
    assert endpoint.consecutive_failures in (0, 1, 2)  # requests run side by side: the order is the server's
    assert endpoint.is_active


async def test_without_permission_a_loopback_url_is_refused_at_send_time_too(db, receiver):
    """Saved while allowed (or while its name resolved elsewhere), then no longer allowed: the
    address is checked again before connecting, and nothing reaches the receiver."""
    await add_endpoint(db, receiver.url)
    await db.execute(update(WebhookEndpoint).values(allow_private=False))
    await outbox.emit(db, "contact.created", {"contact_id": 1})
    await db.commit()
    assert await sending.deliver_due() == 1
    [delivery] = await deliveries(db)
    assert delivery.status == "pending" and delivery.response_code is None
    assert "127.0.0.1 is a loopback address" in delivery.error
    assert receiver.requests == []


async def test_a_host_name_is_sent_to_the_address_that_was_checked(db, receiver):
    """localhost resolves to loopback: allowed here, the request goes to the checked address with
    the URL's host name in the Host header."""
    port = receiver.url.rsplit(":", 1)[1]
    await add_endpoint(db, f"http://localhost:{port}/named")
    await outbox.emit(db, "contact.created", {"contact_id": 1})
    await db.commit()
    await sending.deliver_due()
    [request] = receiver.requests
    assert request.headers["host"] == f"localhost:{port}" and request.path == "/named"


async def test_the_log_keeps_thirty_days_of_finished_deliveries(db, receiver):
    await add_endpoint(db, receiver.url)
    await outbox.emit_many(db, "contact.created", [{"contact_id": 1}, {"contact_id": 2}, {"contact_id": 3}])
    await db.commit()
    await sending.deliver_due()
    first, _succeeded, third = await deliveries(db)
    await db.execute(update(WebhookDelivery).where(WebhookDelivery.id == first.id).values(status="failed"))
    await db.execute(update(WebhookDelivery).where(WebhookDelivery.id == third.id).values(status="pending"))
    await db.execute(update(WebhookDelivery).values(created_at=WebhookDelivery.created_at - timedelta(days=31)))
    await db.commit()
    await sending.prune_log()
    assert [d.id for d in await deliveries(db)] == [third.id]  # pending ones stay until they are done
