"""Per-recipient-domain throttles: at most N messages a minute to a domain, or to a group of
domains that share their receiving servers (DOMAIN_GROUPS), counted in Redis so every worker
process and host shares them.

A 4xx deferral from a domain halves its rate (once per CUT_COOLDOWN_US: the replies of one burst
arrive together and must not halve it ten times), down to FLOOR of the configured rate; the rate
then comes back by RECOVERY_PER_SECOND of the configured rate, linearly (10 % every 5 minutes):
receivers that defer want a sender to back off at once and return gradually. Both are computed
from Redis's clock, so every host sees the same rate.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping

from redis.asyncio import Redis

from webapp.routing.schemas import GROUP_OF_DOMAIN

MICROSECONDS = 1_000_000
MAX_WAIT_SECONDS = 5.0  # a message that would wait longer goes back to the queue (DomainBusy)
CUT = 0.5
FLOOR = 0.05
CUT_COOLDOWN_US = 60 * MICROSECONDS
RECOVERY_PER_US = 0.1 / (5 * 60 * MICROSECONDS)
# Fully recovered from the floor after (1 - FLOOR) / RECOVERY: the slow-down is forgotten then.
SLOWED_TTL_MS = math.ceil((1 - FLOOR) / RECOVERY_PER_US / 1000) + 1000

_FACTOR = """
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function factor(key, now, recovery)
  local slowed = redis.call('HMGET', key, 'f', 't')
  if not slowed[1] then return 1.0 end
  return math.min(1.0, tonumber(slowed[1]) + recovery * (now - tonumber(slowed[2])))
end
"""

# Reserves the domain's next free slot for this message when it is at most ARGV[3] microseconds
# away, and answers how long to wait for it (0: go now); answers minus the wait, reserving
# nothing, when it is further. One call per message, however many wait: no polling. A message
# that gives up after reserving (its campaign paused) leaves its slot unused: slower, never faster.
TAKE = (
    _FACTOR
    + """
local now = now_us()
local interval = tonumber(ARGV[1]) / factor(KEYS[2], now, tonumber(ARGV[2]))
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local wait = math.ceil(slot - now)
if wait > tonumber(ARGV[3]) then
  return -wait
end
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', math.ceil((wait + interval) / 1000) + 1000)
return wait
"""
)

# 1 when this deferral slowed the domain down, 0 when a recent one already did.
DEFER = (
    _FACTOR
    + """
local now = now_us()
local last = redis.call('HGET', KEYS[1], 't')
if last and now - tonumber(last) < tonumber(ARGV[2]) then
  return 0
end
local f = math.max(tonumber(ARGV[4]), factor(KEYS[1], now, tonumber(ARGV[1])) * tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'f', tostring(f), 't', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""
)

CURRENT = _FACTOR + "return tostring(factor(KEYS[1], now_us(), tonumber(ARGV[1])))"


class DomainBusy(Exception):
    """The recipient's domain has no room for this message for `seconds`: send it later."""

    def __init__(self, domain: str, seconds: float) -> None:
        super().__init__(f"{domain} takes no more messages for {seconds:.0f} s (its per-minute limit)")
        self.seconds = seconds


class DomainRates:
    """The per-minute limits as configured (by domain or group name; none: no limit)."""

    def __init__(self, redis: Redis, limits: Mapping[str, int]) -> None:
        self.limits = {bucket.lower(): per_minute for bucket, per_minute in limits.items() if per_minute > 0}
        self._take = redis.register_script(TAKE)
        self._defer = redis.register_script(DEFER)
        self._current = redis.register_script(CURRENT)

    def bucket(self, domain: str) -> str | None:
        """What the domain's messages are counted under: its own limit, else its group's."""
        domain = domain.lower()
        if domain in self.limits:
            return domain
        group = GROUP_OF_DOMAIN.get(domain)
        return group if group in self.limits else None

    async def take(self, domain: str) -> None:
        """Wait for the domain's next slot when it is at most MAX_WAIT_SECONDS away; else DomainBusy."""
        bucket = self.bucket(domain)
        if bucket is None:
            return
        interval = MICROSECONDS * 60 / self.limits[bucket]
        args = [interval, RECOVERY_PER_US, MAX_WAIT_SECONDS * MICROSECONDS]
        wait = int(await self._take(keys=_keys(bucket), args=args)) / MICROSECONDS
        if wait < 0:
            raise DomainBusy(domain, -wait)
        if wait:
            await asyncio.sleep(wait)

    async def deferred(self, domain: str) -> bool:
        """A 4xx reply for a recipient at this domain: whether it slowed the domain down now."""
        bucket = self.bucket(domain)
        if bucket is None:
            return False
        args = [RECOVERY_PER_US, CUT_COOLDOWN_US, CUT, FLOOR, SLOWED_TTL_MS]
        return bool(await self._defer(keys=[_keys(bucket)[1]], args=args))

    async def per_minute(self, domain_or_bucket: str) -> float | None:
        """The rate in force now (lower than configured after deferrals); None: no limit."""
        bucket = domain_or_bucket.lower() if domain_or_bucket.lower() in self.limits else self.bucket(domain_or_bucket)
        if bucket is None:
            return None
        factor = float(await self._current(keys=[_keys(bucket)[1]], args=[RECOVERY_PER_US]))
        return self.limits[bucket] * factor


def _keys(bucket: str) -> list[str]:
    return [f"domain-rate:{bucket}:next", f"domain-rate:{bucket}:slowed"]
