"""One asyncio Redis client per process, for sessions, login throttling and progress events; and
request counts per window shared by every process (rate limits)."""

from __future__ import annotations

from functools import lru_cache

from redis.asyncio import Redis

from webapp.core.config import get_settings


@lru_cache
def get_redis() -> Redis:
    url = get_settings().redis.url
    if not url:
        raise RuntimeError("REDIS_URL is not set (run through `mailroom dev` to get an embedded Redis)")
    client: Redis = Redis.from_url(url)
    return client


async def over_limit(redis: Redis, key: str, limit: int, window_seconds: int) -> int | None:
    """Count one request under this key. Over `limit` in the window: the seconds until the window
    ends (for Retry-After); else None."""
    async with redis.pipeline(transaction=True) as pipe:
        # SET NX starts the window with the first request; INCR keeps its TTL.
        pipe.set(key, 0, ex=window_seconds, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = await pipe.execute()
    if count > limit:
        return max(int(ttl), 1)
    return None
