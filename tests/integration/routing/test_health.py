"""Transport health: recent error, deferral, bounce and complaint rates and latency per transport,
counted in Redis (shared by every worker and host). Past a warning level they lower the
transport's share; past the out level it leaves the rotation until a probe message succeeds."""

from __future__ import annotations

import asyncio
import time

import pytest

from webapp.core.redis import get_redis
from webapp.routing.service import health as health_module
from webapp.routing.service.health import LONG_WINDOW, LOWEST_SHARE, SHORT_WINDOW, WRITE_SECONDS, Health

SES = "provider:1"
RELAY = "smtp:1"


def health(later_minutes: float = 0) -> Health:
    return Health(get_redis(), clock=lambda: time.time() + later_minutes * 60)


async def attempts(h: Health, key: str, sent: int = 0, deferred: int = 0, errors: int = 0, seconds: float = 0.2):
    """A worker's outcomes, all written (as they are at most WRITE_SECONDS later)."""
    for outcome, n in (("sent", sent), ("deferred", deferred), ("error", errors)):
        for _ in range(n):
            h.record(key, outcome, seconds)
    await h.flush()


async def test_a_transport_without_traffic_is_healthy(db):
    status = (await health().snapshot([SES]))[SES]
    assert status.share == 1 and not status.out and status.attempts == 0


async def test_a_few_failures_are_too_few_to_judge(db):
    await attempts(health(), SES, errors=5)
    status = (await health().snapshot([SES]))[SES]
    assert status.error_rate == 1 and status.share == 1 and not status.out


async def test_an_error_rate_past_the_warning_lowers_the_share(db):
    await attempts(health(), SES, sent=90, errors=10)  # 10 %: warning at 5 %, out at 20 %
    status = (await health().snapshot([SES]))[SES]
    assert status.error_rate == pytest.approx(0.10)
    assert status.share == pytest.approx(1 - (1 - LOWEST_SHARE) / 3)
    assert not status.out


async def test_past_the_out_level_a_transport_leaves_the_rotation_and_stays_out(db):
    await attempts(health(), SES, sent=70, deferred=30)  # 30 % deferred
    status = (await health().snapshot([SES]))[SES]
    assert status.out and status.share == 0
    assert "deferral rate 30.0 %" in status.reason
    await attempts(health(), SES, sent=900)  # good news alone does not bring it back
    assert (await health().snapshot([SES]))[SES].out


async def test_health_is_shared_by_every_worker_and_kept_per_transport(db):
    await attempts(Health(get_redis()), SES, sent=50, errors=50)
    await attempts(Health(get_redis()), RELAY, sent=100)
    statuses = await Health(get_redis()).snapshot([SES, RELAY])
    assert statuses[SES].out and not statuses[RELAY].out


async def test_slow_answers_lower_the_share(db):
    await attempts(health(), RELAY, sent=50, seconds=9.0)  # warning at 3 s, out at 15 s
    status = (await health().snapshot([RELAY]))[RELAY]
    assert status.latency == pytest.approx(9.0)
    assert 0 < status.share < 1


async def test_only_the_last_minutes_count_for_errors(db):
    await attempts(health(), SES, sent=50, errors=50)
    status = (await health(later_minutes=16).snapshot([SES]))[SES]
    assert status.attempts == 0 and status.share == 1 and not status.out


async def test_bounces_and_complaints_count_against_a_days_sends(db):
    await attempts(health(), SES, sent=2000)
    await health(later_minutes=120).feedback(SES, bounced=30)  # 1.5 %: under the 2 % warning
    assert (await health(later_minutes=120).snapshot([SES]))[SES].share == 1
    await health(later_minutes=120).feedback(SES, complained=8)  # 0.4 %: past Gmail's 0.3 %
    status = (await health(later_minutes=120).snapshot([SES]))[SES]
    assert status.bounce_rate == pytest.approx(30 / 2000)
    assert status.complaint_rate == pytest.approx(8 / 2000)
    assert status.out and "complaint rate" in status.reason


async def test_a_single_probe_at_a_time_may_go_to_a_transport_out_of_rotation(db):
    await attempts(health(), SES, errors=100)
    await health().snapshot([SES])
    assert await health().probe(SES)
    assert not await Health(get_redis()).probe(SES)  # another worker, the same minute
    assert await health(later_minutes=2).probe(SES)  # the next probe, a while later


async def test_a_transport_in_rotation_needs_no_probe(db):
    assert not await health().probe(RELAY)


async def test_a_successful_probe_brings_the_transport_back_with_a_clean_slate(db):
    await attempts(health(), SES, errors=100)
    assert (await health().snapshot([SES]))[SES].out
    await health().returned(SES)
    status = (await health().snapshot([SES]))[SES]
    assert not status.out and status.share == 1 and status.attempts == 0


async def test_counts_expire_after_their_window_and_a_refusal_counts_as_a_bounce(db):
    h = health()
    h.record(RELAY, "refused", 0.5)
    h.record(RELAY, "sent")  # not timed
    await h.flush()
    redis = get_redis()
    minute, hour = h._minutes(RELAY)[-1], h._hours(RELAY)[-1]
    assert await redis.hgetall(minute) == {b"refused": b"1", b"sent": b"1", b"latency_us": b"500000", b"timed": b"1"}
    assert (await redis.hgetall(hour))[b"bounced"] == b"1"
    assert 0 < await redis.ttl(minute) <= (SHORT_WINDOW + 1) * 60 < await redis.ttl(hour)
    assert await redis.ttl(hour) <= (LONG_WINDOW + 1) * 3600


async def test_a_workers_successes_are_written_together_within_a_second(db):
    h, redis = health(), get_redis()
    minute = h._minutes(RELAY)[-1]
    for _ in range(3):
        h.record(RELAY, "sent", 0.1)
    assert await redis.hgetall(minute) == {}  # added up in the process, not yet written
    deadline = time.monotonic() + 5
    while not await redis.hgetall(minute):
        assert time.monotonic() < deadline, "the successes were never written"
        await asyncio.sleep(0.05)
    assert time.monotonic() - (deadline - 5) < WRITE_SECONDS + 1
    assert await redis.hgetall(minute) == {b"sent": b"3", b"latency_us": b"300000", b"timed": b"3"}


async def test_a_failure_is_written_at_once_but_its_message_does_not_wait_for_redis(db, monkeypatch):
    """A failing relay answers fast; had each refusal waited for Redis, a slow Redis would let the
    relay take message after message before the campaign's failure count stopped it."""
    monkeypatch.setattr(health_module, "WRITE_SECONDS", 60)
    h, redis = health(), get_redis()
    minute = h._minutes(RELAY)[-1]
    h.record(RELAY, "sent")
    h.record(RELAY, "error")
    assert await redis.hgetall(minute) == {}, "recorded without a call to Redis"
    deadline = time.monotonic() + 10
    while not await redis.hgetall(minute):
        assert time.monotonic() < deadline, "the failure waited for the next write, a minute away"
        await asyncio.sleep(0.05)
    assert await redis.hgetall(minute) == {b"sent": b"1", b"error": b"1"}, "with the success waiting before it"


async def test_a_stopping_worker_writes_every_count_it_holds(db):
    from webapp.routing import actors as routing_actors

    h, redis = health(), get_redis()
    for _ in range(3):
        h.record(RELAY, "sent", 0.1)
    await routing_actors.write_health_counts()  # what the worker runs after its last message (worker.py)
    assert await redis.hgetall(h._minutes(RELAY)[-1]) == {b"sent": b"3", b"latency_us": b"300000", b"timed": b"3"}
