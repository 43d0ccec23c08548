"""An SMTP server's sending limits, counted in Redis so that every worker process and host shares
them: messages per second (spaced evenly, one every 1/rate seconds), per hour and per day."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

HOUR_SECONDS, DAY_SECONDS = 3600, 86400
MICROSECONDS = 1_000_000

# The next moment (Redis's clock, in microseconds) a message may go to this server. A caller that
# is early gets the microseconds to wait and takes nothing, so a caller that gives up (its campaign
# paused) leaves no slot behind, and a changed rate applies to the very next message.
NEXT_SLOT = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free > now then
  return free - now
end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', 60000)
return 0
"""


class QuotaReached(Exception):
    """The server's hourly or daily budget is spent until the window ends."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class PerSecond:
    """At most `rate` messages a second to one server, across all workers."""

    def __init__(self, redis: Redis, server_key: str, rate: int) -> None:
        self.key = f"smtp-rate:{server_key}"
        self.interval = MICROSECONDS // rate if rate > 0 else 0
        self.next_slot = redis.register_script(NEXT_SLOT)

    async def take(self) -> None:
        while self.interval:
            wait = int(await self.next_slot(keys=[self.key], args=[self.interval]))
            if wait <= 0:
                return
            await asyncio.sleep(wait / MICROSECONDS)


class HourDayQuota:
    """Messages per hour and per day for one server."""

    def __init__(self, redis: Redis, server_key: str, per_hour: int, per_day: int) -> None:
        self.redis = redis
        self.server_key = server_key
        self.windows = [
            (limit, size, label)
            for limit, size, label in ((per_hour, HOUR_SECONDS, "hour"), (per_day, DAY_SECONDS, "day"))
            if limit > 0
        ]

    async def take(self) -> None:
        now = time.time()
        for limit, size, label in self.windows:
            window = int(now // size)
            key = f"smtp-quota:{self.server_key}:{label}:{window}"
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, size)
                count, _ = await pipe.execute()
            if count > limit:
                raise QuotaReached(
                    f"the limit of {limit} messages per {label} is reached", seconds=(window + 1) * size - now
                )
