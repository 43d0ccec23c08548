"""The nightly recompute: started by the scheduler tick once per UTC day across workers, and run
by a real worker process."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from tests.support.locks import waiting_for_a_lock
from tests.support.scoring import contact, rule, score_row
from webapp.core.redis import get_redis
from webapp.delivery.broker import broker
from webapp.scoring import actors

QUEUE = f"{broker.namespace}:{actors.QUEUE}"  # where the Redis broker queues messages


async def test_the_tick_starts_one_recompute_per_day(db):
    redis = get_redis()
    assert await actors.recompute_if_due() is True
    assert await actors.recompute_if_due() is False  # another tick, another worker: the same day
    assert await redis.llen(QUEUE) == 1
    for key in await redis.keys("mailroom:scoring:recomputed:*"):
        await redis.delete(key)  # the next day
    assert await actors.recompute_if_due() is True
    assert await redis.llen(QUEUE) == 2


async def test_a_worker_recomputes_every_score_by_itself(db, worker):
    ada = await contact(db, "ada@example.com", first_name="Ada", phone="+44 20")
    await db.commit()
    worker()
    deadline = time.monotonic() + 60
    while await score_row(db, ada) is None:
        assert time.monotonic() < deadline, "no score after 60 s"
        await asyncio.sleep(0.2)
        await db.rollback()  # a fresh snapshot
    assert (await score_row(db, ada))["completeness"] == 6
    assert await db.scalar(text("SELECT reason FROM score_history WHERE contact_id = :c"), {"c": ada}) == (
        "Nightly recompute"
    )


async def test_an_event_scored_while_the_nightly_recompute_runs_waits_for_it_and_counts(db):
    from webapp.contact_events import service as contact_events
    from webapp.contact_events.service import NewEvent
    from webapp.core.db import get_sessionmaker
    from webapp.scoring import service as scoring

    ada = await contact(db, "ada@example.com")
    await rule(db, "custom", 10, event_name="purchase")
    await scoring.add_points(db, [ada], 5, "Welcome")
    await db.commit()
    async with get_sessionmaker()() as nightly, nightly.begin():
        await scoring.recompute_all(nightly)  # every row locked until this commits

        async def purchase() -> None:
            async with get_sessionmaker()() as session, session.begin():
                await contact_events.record(session, [NewEvent(ada, "purchase")])

        buying = asyncio.create_task(purchase())
        await waiting_for_a_lock(db, still_going=buying)
        assert not buying.done()  # it waits for the recompute's lock on Ada's row
    await buying
    db.expire_all()
    assert (await score_row(db, ada))["engagement"] == 10 and (await score_row(db, ada))["adjustments"] == 5
