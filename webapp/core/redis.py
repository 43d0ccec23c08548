"""One asyncio Redis client per process, for sessions, login throttling and progress events."""

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
