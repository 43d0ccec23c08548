"""Each transport's hourly figures, copied from the health counts in Redis into transport_hours
for the transports page: the same hour copied again replaces its figures (any worker may copy)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from webapp.core.redis import get_redis
from webapp.routing import actors as routing_actors
from webapp.routing.service import hours
from webapp.routing.service.health import Health


async def test_the_hours_figures_are_kept_and_copying_again_counts_nothing_twice(db):
    health = Health(get_redis())
    for outcome, n in (("sent", 8), ("deferred", 1), ("error", 1), ("refused", 2)):
        for _ in range(n):
            health.record("smtp:1", outcome, 0.5)
    await health.flush()
    await health.feedback("smtp:1", complained=1)
    await hours.keep_hours(db)
    await hours.keep_hours(db)
    await db.commit()

    (row,) = await hours.recent(db, days=1)
    this_hour = datetime.fromtimestamp(time.time() // 3600 * 3600, UTC)
    assert (row.transport, row.hour) == ("smtp:1", this_hour)
    assert (row.sent, row.deferred, row.errors, row.bounced, row.complained) == (8, 1, 1, 2, 1)
    assert (row.latency_ms, row.timed) == (6000, 12)


async def test_later_counts_of_the_same_hour_replace_its_figures(db):
    health = Health(get_redis())
    health.record("provider:2", "sent", 0.1)
    await health.flush()  # as the process does within a second
    await hours.keep_hours(db)
    health.record("provider:2", "sent", 0.1)
    await health.flush()
    await hours.keep_hours(db)
    (row,) = await hours.recent(db, days=1)
    assert row.sent == 2


async def test_the_scheduler_tick_copies_them_once_a_minute(db):
    health = Health(get_redis())
    health.record("smtp:1", "sent")
    await health.flush()  # as the process does within a second
    await routing_actors.keep_hours_if_due()
    health.record("smtp:1", "sent")
    await health.flush()
    await routing_actors.keep_hours_if_due()  # the same minute: nothing to do yet
    (row,) = await hours.recent(db, days=1)
    assert row.sent == 1


async def test_a_transports_return_to_rotation_loses_none_of_its_hours_figures(db):
    health = Health(get_redis())
    for _ in range(30):
        health.record("smtp:1", "error")
    await health.snapshot(["smtp:1"])
    await health.returned("smtp:1")  # judged afresh from now on
    health.record("smtp:1", "sent")
    await health.flush()
    await hours.keep_hours(db)
    (row,) = await hours.recent(db, days=1)
    assert (row.errors, row.sent) == (30, 1)
