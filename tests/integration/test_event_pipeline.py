"""Opens and clicks go web -> Redis stream -> event worker -> tables: the web process answers
without the worker, nothing buffered is lost when a consumer dies, and nothing is counted twice
when a batch is applied again."""

from __future__ import annotations

import asyncio
import socket

import httpx
from redis.asyncio import Redis
from sqlalchemy import text

from tests.integration.test_tracking import sent_delivery
from tests.support.campaigns import audience, ready_campaign
from tests.support.events import apply_events, wait_for_events
from tests.support.locks import waiting_for_a_lock
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.core.tokens import make_token
from webapp.tracking.service import hits

COUNTERS = "SELECT opened_count, clicked_count FROM campaigns WHERE id = :c"
CONTACT_STATS = "SELECT emails_opened, emails_clicked, last_opened IS NOT NULL, last_clicked IS NOT NULL FROM contacts"
FAST_CLAIM = {"MAILROOM_EVENTS_CLAIM_IDLE_SECONDS": "0.5"}


def pixel(live_server: str, delivery_id: int) -> httpx.Response:
    return httpx.get(f"{live_server}/u/o/{make_token('open', delivery_id)}.gif", headers={"User-Agent": "Thunderbird"})


async def test_the_pixel_answers_with_no_worker_and_the_worker_applies_it_when_it_starts(db, live_server, worker):
    campaign_id, delivery_id, _ = await sent_delivery(db)
    assert pixel(live_server, delivery_id).status_code == 200
    assert await get_redis().xlen(hits.STREAM) == 1  # buffered, not written
    assert await db.scalar(text("SELECT count(*) FROM email_events")) == 0

    worker("event-worker")
    await wait_for_events(db, 1)
    db.expire_all()
    assert (await db.execute(text(COUNTERS), {"c": campaign_id})).one() == (1, 0)
    assert (await db.execute(text(CONTACT_STATS))).one() == (1, 0, True, False)
    assert await db.scalar(text("SELECT user_agent FROM email_events")) == "Thunderbird"


async def test_entries_a_killed_consumer_read_are_applied_by_another(db, live_server, worker):
    campaign_id, delivery_id, link_id = await sent_delivery(db)
    pixel(live_server, delivery_id)
    httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id)}")
    redis = get_redis()
    await hits.ensure_group(redis)
    taken = await hits.take(redis, "killed-consumer", None)  # read, then the process died: never acknowledged
    assert len(taken) == 2

    worker("event-worker", **FAST_CLAIM)
    await wait_for_events(db, 2)
    db.expire_all()
    assert (await db.execute(text(COUNTERS), {"c": campaign_id})).one() == (1, 1)
    assert await apply_events() == 0  # acknowledged: nothing left for anyone


async def test_trimming_keeps_every_entry_some_consumer_group_has_not_acknowledged(db, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    redis = get_redis()
    await hits.ensure_group(redis)
    await redis.xgroup_create(hits.STREAM, "another-reader", id="0")  # e.g. outbound webhooks, behind
    pixel(live_server, delivery_id)
    assert await apply_events() == 1
    pixel(live_server, delivery_id)
    [(stuck, _)] = await hits.take(redis, "stuck-consumer", None)  # read, not acknowledged yet
    pixel(live_server, delivery_id)
    assert await apply_events() == 1
    assert await redis.xlen(hits.STREAM) == 3  # the other group has read none of them

    await redis.xgroup_destroy(hits.STREAM, "another-reader")
    pixel(live_server, delivery_id)
    assert await apply_events() == 1
    kept = [entry_id for entry_id, _ in await redis.xrange(hits.STREAM)]
    assert kept[0] == stuck and len(kept) == 3  # the first entry is dropped; from the stuck one on, none


async def test_consumers_of_dead_processes_are_forgotten_once_nothing_is_pending_for_them(db, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    redis = get_redis()
    await hits.ensure_group(redis)
    await redis.xgroup_createconsumer(hits.STREAM, hits.GROUP, "restarted-long-ago")
    pixel(live_server, delivery_id)
    await hits.take(redis, "killed-with-work", None)
    await hits.forget_idle_consumers(redis, 0)
    names = [c["name"] for c in await redis.xinfo_consumers(hits.STREAM, hits.GROUP)]
    assert names == [b"killed-with-work"]


async def test_a_batch_applied_twice_counts_once(db, live_server):
    campaign_id, delivery_id, link_id = await sent_delivery(db)
    for _ in range(2):
        pixel(live_server, delivery_id)
    httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id)}")
    redis = get_redis()
    await hits.ensure_group(redis)
    batch = [hit for _, hit in await hits.take(redis, "crashed-before-ack", None)]
    for _ in range(2):  # committed, then the worker died before acknowledging: applied again
        async with get_sessionmaker()() as session, session.begin():
            stored = await hits.apply(session, batch)
    assert stored == 0  # the second time, every event was stored already
    db.expire_all()
    assert await db.scalar(text("SELECT count(*) FROM email_events")) == 3
    assert (await db.execute(text(COUNTERS), {"c": campaign_id})).one() == (1, 1)
    assert (await db.execute(text(CONTACT_STATS))).one() == (1, 1, True, True)


async def test_a_click_with_images_blocked_is_the_contacts_last_open_too(db, live_server):
    """No pixel, only a click: the reader opened it, so segments on "last opened" must see them."""
    _, delivery_id, link_id = await sent_delivery(db)
    await db.execute(text("UPDATE deliveries SET sent_at = now() - interval '1 hour'"))  # past the scanner window
    await db.commit()
    httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id)}", headers={"User-Agent": "Thunderbird"})
    assert await apply_events() == 1
    db.expire_all()
    assert (await db.execute(text(CONTACT_STATS))).one() == (1, 1, True, True)
    last = (await db.execute(text("SELECT last_opened = last_clicked FROM contacts"))).scalar_one()
    assert last is True


async def test_two_workers_applying_the_same_delivery_at_once_count_its_first_open_once(db, live_server):
    campaign_id, delivery_id, link_id = await sent_delivery(db)
    sessions = get_sessionmaker()

    async def apply_alone(hit: hits.Hit) -> None:
        async with sessions() as session, session.begin():
            await hits.apply(session, [hit])

    async with sessions() as first, first.begin():
        await hits.apply(first, [hits.new_hit("open", delivery_id, None, "")])
        second = asyncio.create_task(apply_alone(hits.new_hit("click", delivery_id, link_id, "")))
        await waiting_for_a_lock(db)  # the second batch is under way, before the first commits
    await second
    db.expire_all()
    assert (await db.execute(text(COUNTERS), {"c": campaign_id})).one() == (1, 1)
    assert (await db.execute(text(CONTACT_STATS))).one() == (1, 1, True, True)


async def test_opens_of_many_deliveries_in_one_batch_move_each_counter_once_per_delivery(db, live_server):
    email_list = await audience(db, 3)
    campaign_id = (await ready_campaign(db, [email_list.id])).id
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                SELECT :c, id, email, 'sent', now() FROM contacts"""),
        {"c": campaign_id},
    )
    await db.commit()
    delivery_ids = (await db.scalars(text("SELECT id FROM deliveries ORDER BY id"))).all()
    for delivery_id in [*delivery_ids, *delivery_ids, delivery_ids[0]]:
        pixel(live_server, delivery_id)
    assert await apply_events() == 7
    db.expire_all()
    assert (await db.execute(text(COUNTERS), {"c": campaign_id})).one() == (3, 0)
    opened = await db.scalars(text("SELECT emails_opened FROM contacts ORDER BY id"))
    assert opened.all() == [1, 1, 1]
    statuses = await db.scalars(text("SELECT DISTINCT status FROM deliveries"))
    assert statuses.all() == ["opened"]


async def test_a_click_on_a_link_of_another_campaign_is_refused(db, live_server):
    _, delivery_id, link_id = await sent_delivery(db)
    other_id = (await ready_campaign(db, [], name="Other campaign")).id
    other_link = await db.scalar(
        text("INSERT INTO links (campaign_id, url) VALUES (:c, 'https://evil.example/') RETURNING id"), {"c": other_id}
    )
    await db.commit()
    own = httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id)}")  # the caches know both now
    assert own.status_code == 302
    foreign = httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, other_link)}")
    assert foreign.status_code == 404 and "location" not in foreign.headers
    assert await apply_events() == 1  # only the click on its own link


async def test_a_click_token_names_its_campaign_so_no_delivery_is_looked_up(db, live_server):
    campaign_id, delivery_id, link_id = await sent_delivery(db)
    other_id = (await ready_campaign(db, [], name="Other campaign")).id
    await db.commit()
    signed = httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id, campaign_id)}")
    assert signed.status_code == 302 and signed.headers["location"] == "https://example.com/offer"
    wrong = httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id, other_id)}")
    assert wrong.status_code == 404
    assert await apply_events() == 1


async def test_a_hit_is_written_directly_when_redis_cannot_take_it(db, live_server):
    campaign_id, delivery_id, _ = await sent_delivery(db)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        unreachable = Redis(host="127.0.0.1", port=closed.getsockname()[1])
    await hits.record(unreachable, hits.new_hit("open", delivery_id, None, "Mail"))
    db.expire_all()
    assert (await db.execute(text(COUNTERS), {"c": campaign_id})).one() == (1, 0)
    assert await db.scalar(text("SELECT count(*) FROM email_events")) == 1


async def test_a_hit_is_written_directly_when_redis_does_not_answer(db, live_server):
    campaign_id, delivery_id, _ = await sent_delivery(db)
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        hung = Redis(host="127.0.0.1", port=silent.getsockname()[1])
        await hits.record(hung, hits.new_hit("open", delivery_id, None, "Mail"))
    db.expire_all()
    assert (await db.execute(text(COUNTERS), {"c": campaign_id})).one() == (1, 0)
