"""The list of an account's sessions in Redis: what it keeps, and how seldom it writes."""

from __future__ import annotations

import time

from webapp.core.redis import get_redis
from webapp.staff.service import signed_in

AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HOUR = 3600


async def seen_at(user_id: int, handle: str) -> float:
    return float(await get_redis().hget(f"staff:signed-in-seen:{user_id}", handle))


async def test_activity_is_written_at_most_once_a_minute(db):
    redis = get_redis()
    handle = await signed_in.open_session(redis, 7, "stamp", "10.0.0.1", AGENT, HOUR)
    first = await seen_at(7, handle)
    assert await signed_in.still_open(redis, 7, handle, HOUR)
    assert await seen_at(7, handle) == first, "within the minute: no write"

    await redis.hset("staff:signed-in-seen:7", handle, str(time.time() - 2 * signed_in.SEEN_EVERY))
    assert await signed_in.still_open(redis, 7, handle, HOUR)
    assert await seen_at(7, handle) >= first


async def test_an_ended_session_stays_ended_and_is_not_listed(db):
    redis = get_redis()
    kept = await signed_in.open_session(redis, 7, "stamp", "10.0.0.1", AGENT, HOUR)
    ended = await signed_in.open_session(redis, 7, "stamp", "10.0.0.2", AGENT, HOUR)
    assert await signed_in.end(redis, 7, ended)
    await redis.hset("staff:signed-in-seen:7", ended, "0")  # a late note of activity, as from a request in flight
    assert not await signed_in.still_open(redis, 7, ended, HOUR)
    assert [s.handle for s in await signed_in.listed(redis, 7, "stamp", kept, HOUR)] == [kept]
    assert not await signed_in.end(redis, 7, ended)


async def test_sessions_of_an_old_password_or_idle_past_the_lifetime_are_dropped(db):
    redis = get_redis()
    old_password = await signed_in.open_session(redis, 7, "old stamp", "10.0.0.1", AGENT, HOUR)
    idle = await signed_in.open_session(redis, 7, "new stamp", "10.0.0.2", AGENT, HOUR)
    await redis.hset("staff:signed-in-seen:7", idle, str(time.time() - HOUR - 1))
    active = await signed_in.open_session(redis, 7, "new stamp", "10.0.0.3", AGENT, HOUR)

    listed = await signed_in.listed(redis, 7, "new stamp", None, HOUR)
    assert [(s.handle, s.ip, s.browser, s.current) for s in listed] == [
        (active, "10.0.0.3", "Firefox 133 on Linux", False)
    ]
    kept = set(await redis.hkeys("staff:signed-in:7")) | set(await redis.hkeys("staff:signed-in-seen:7"))
    assert kept == {active.encode()}, "the last sign-in dropped the entries that can no longer sign anyone in"
    assert old_password.encode() not in kept

    await signed_in.restamp(redis, 7, active, "newer stamp")
    assert [s.handle for s in await signed_in.listed(redis, 7, "newer stamp", active, HOUR)] == [active]
