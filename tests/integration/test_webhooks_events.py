"""Where events come from: contacts, unsubscribes and campaigns write their webhook events in their
own transaction, and a real worker process sends them; sending a campaign never waits on a
receiver, even one that never answers."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import select

from tests.integration.test_tracking import sent_delivery
from tests.support.campaigns import audience, ready_campaign, sent_by_a_worker, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns
from webapp.contacts import service as contacts
from webapp.core.tokens import make_token
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.tracking import service as tracking
from webapp.webhooks.models import WebhookDelivery
from webapp.webhooks.schemas import EVENT_TYPES
from webapp.webhooks.service import endpoints

FAST_TICKS = {"MAILROOM_SCHEDULER_INTERVAL": "0.5"}


async def subscribe_everything(db, url: str) -> None:
    await endpoints.create_endpoint(db, {"url": url, "event_types": list(EVENT_TYPES), "allow_private": True})
    await db.commit()


async def queued(db) -> list[tuple[str, dict]]:
    db.expire_all()
    rows = await db.execute(select(WebhookDelivery.event_type, WebhookDelivery.data).order_by(WebhookDelivery.id))
    return [tuple(row) for row in rows]


async def wait_for(predicate, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_contact_changes_and_unsubscribes_are_queued_with_the_change(db, receiver):
    await subscribe_everything(db, receiver.url)
    contact = await contacts.create_contact(db, {"email": "ada@example.com", "first_name": "Ada"})
    await contacts.update_contact(db, contact.id, {"company": "Analytical Engines"})
    await subscriptions.unsubscribe_all(db, contact.id, Origin(source="preference centre"))
    await db.rollback()  # nothing was committed: no event either
    assert await queued(db) == []

    contact = await contacts.create_contact(db, {"email": "ada@example.com", "first_name": "Ada"})
    await contacts.update_contact(db, contact.id, {"company": "Analytical Engines"})
    await contacts.update_contact(db, contact.id, {})  # nothing to change: no event
    await contacts.update_contact(db, contact.id, {"first_name": "Ada", "company": "Analytical Engines"})
    await subscriptions.unsubscribe_all(db, contact.id, Origin(source="preference centre"))
    await db.commit()
    events = await queued(db)
    assert [kind for kind, _ in events] == ["contact.created", "contact.updated", "contact.unsubscribed"]
    assert events[0][1]["email"] == "ada@example.com" and events[0][1]["first_name"] == "Ada"
    assert events[1][1]["company"] == "Analytical Engines"
    assert events[2][1]["status"] == "unsubscribed" and events[2][1]["source"] == "preference centre"


async def test_an_unsubscribe_from_a_messages_link_is_a_contact_unsubscribed_event_once(db, receiver):
    _, delivery_id, _ = await sent_delivery(db)
    await subscribe_everything(db, receiver.url)
    await tracking.unsubscribe(db, delivery_id, "one-click")
    await tracking.unsubscribe(db, delivery_id, "unsubscribe page")  # the same message again: nothing new
    await db.commit()
    [(kind, data)] = await queued(db)
    assert kind == "contact.unsubscribed" and data["email"] == "person0@example.com"
    assert data["status"] == "unsubscribed" and data["source"] == "one-click" and data["campaign_id"] > 0


async def test_unsubscribing_from_all_through_a_messages_preference_link_is_one_event(db, receiver, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    await subscribe_everything(db, receiver.url)
    token = make_token("unsubscribe", delivery_id)
    for _ in range(2):  # the second press changes nothing
        answer = httpx.post(f"{live_server}/u/preferences/{token}", data={"action": "unsubscribe-all"})
        assert answer.status_code == 200
    assert [kind for kind, _ in await queued(db)] == ["contact.unsubscribed"]


async def test_a_worker_sends_campaign_and_message_events(db, worker, receiver):
    await subscribe_everything(db, receiver.url)
    with SmtpSink() as sink:
        email_list = await audience(db, 5)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id])
        await sent_by_a_worker(db, worker, campaign.id, **FAST_TICKS)
        await wait_for(lambda: len(receiver.requests) >= 7)

    kinds = sorted(json.loads(r.body)["type"] for r in receiver.requests)
    assert kinds == ["campaign.completed", "campaign.started"] + ["email.sent"] * 5
    sent = [json.loads(r.body)["data"] for r in receiver.requests if json.loads(r.body)["type"] == "email.sent"]
    assert sorted(d["email"] for d in sent) == [f"person{i}@example.com" for i in range(5)]
    assert {d["campaign_id"] for d in sent} == {campaign.id}


async def test_a_campaign_is_sent_while_the_receiver_hangs(db, worker, receiver):
    receiver.hang = True
    await subscribe_everything(db, receiver.url)
    with SmtpSink() as sink:
        email_list = await audience(db, 30)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id])
        await campaigns.send_now(db, campaign.id)
        await db.commit()
        worker(**FAST_TICKS)
        await wait_for(lambda: len(receiver.requests) >= 1)  # the sender is stuck in a request
        done = await wait_for_status(db, campaign.id, {"sent"})
        assert done.sent_count == 30 and len(sink.messages) == 30
    assert not receiver.released.is_set()  # still hanging when the campaign finished
    kinds = [kind for kind, _ in await queued(db)]
    assert kinds.count("email.sent") == 30 and "campaign.completed" in kinds


async def test_one_sender_at_a_time_so_slow_receivers_never_take_every_worker_thread(db, receiver):
    """Ticks keep coming while a sender waits on a slow receiver: they must not start another
    sender each, or webhooks would soon hold every worker thread and campaigns would stop sending."""
    from webapp.core.redis import get_redis
    from webapp.delivery.broker import broker
    from webapp.webhooks import actors

    await subscribe_everything(db, receiver.url)
    await contacts.create_contact(db, {"email": "ada@example.com"})
    await db.commit()
    redis = get_redis()
    queue = f"{broker.namespace}:{actors.QUEUE}"  # where the Redis broker queues messages
    await actors.start_if_due()
    await actors.start_if_due()
    assert await redis.llen(queue) == 1
    await actors.send_due_batches()  # the sender runs and is done: the next tick may start one again
    await contacts.create_contact(db, {"email": "bob@example.com"})
    await db.commit()
    await actors.start_if_due()
    assert await redis.llen(queue) == 2


async def test_a_public_sign_up_of_a_new_address_is_a_new_contact(db, receiver):
    from tests.support.subscriptions import public_list

    await subscribe_everything(db, receiver.url)
    email_list = await subscriptions.public_list(db, (await public_list(db, double_opt_in=False)).id)
    await subscriptions.subscribe(db, email_list, {"email": "new@example.com"}, Origin(source="form"), "en")
    await subscriptions.subscribe(db, email_list, {"email": "new@example.com"}, Origin(source="form"), "en")
    await db.commit()
    events = await queued(db)
    assert [kind for kind, _ in events] == ["contact.created"]  # once: the second sign-up found the contact
    assert events[0][1]["email"] == "new@example.com" and events[0][1]["status"] == "active"
