"""Each transport's health (an SMTP server, an API provider): its recent error, deferral, bounce
and complaint rates and latency, counted in Redis so every worker process and host judges it alike.

- Errors (no connection, a refusal that is the transport's or the message's fault, a broken
  transfer), deferrals (4xx) and latency count over the last SHORT_WINDOW minutes: they say how it
  is going now. Bounces and complaints arrive hours after the message, so they count over the last
  LONG_WINDOW hours, against the messages sent in those hours.
- A rate judges nothing until enough messages back it (Limit.min_messages): 1 failure in 2 is no
  evidence. Past its warning level a rate lowers the transport's share linearly, down to
  LOWEST_SHARE just before the out level; at the out level the transport leaves the rotation.
- Out of rotation, one real message at most every PROBE_SECONDS goes to it first (a probe; if it
  fails, the message goes on to the next transport). When a probe succeeds the transport is back,
  its counts started afresh (the old ones are what took it out).
- A process adds its successes up and writes them at most WRITE_SECONDS later, all in one call: one
  Redis call a message was a fifth of a sending worker's Python time. Failures are written at once
  (they decide the rotation), with what was waiting, but in the background like the rest: a message's
  outcome never waits for Redis, or a slow Redis would let a failing relay take message after message
  before the campaign's failure count stops it. A worker that stops writes what it holds
  (write_all), one that dies loses at most a second of successes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError

Outcome = Literal["sent", "deferred", "error", "refused"]  # refused: the recipient's mailbox (a bounce)

SHORT_WINDOW = 15  # minutes
LONG_WINDOW = 24  # hours
PROBE_SECONDS = 60
LOWEST_SHARE = 0.1
MICROSECONDS = 1_000_000
TRANSPORTS = "health:transports"  # every transport key ever recorded, for the hourly figures
WRITE_SECONDS = 1.0
log = logging.getLogger("mailroom.delivery")


@dataclass(frozen=True)
class Limit:
    warning: float
    out: float
    min_messages: int


# Errors and deferrals: a healthy relay or API answers nearly everything; 1 in 5 failing is an
# outage. Bounces: mailbox providers treat 2 % as a list-hygiene problem, ESPs suspend at 5 %.
# Complaints: Gmail's and Yahoo's bulk-sender rules (0.1 %, and 0.3 % where they start rejecting).
# Latency: seconds per message; the transfer gives up at 30 s.
ERRORS = Limit(0.05, 0.20, 20)
DEFERRALS = Limit(0.10, 0.30, 20)
BOUNCES = Limit(0.02, 0.05, 200)
COMPLAINTS = Limit(0.001, 0.003, 1000)
LATENCY = Limit(3.0, 15.0, 20)

# Outcomes added up, in their minute's bucket (KEYS[1]), their hour's (KEYS[2]) and the hourly
# figures (KEYS[3]), and the transport named in the set of them all (KEYS[4]). The hours' fields
# carry an h_ prefix so that a snapshot can add up minutes and hours. One call: the same commands
# as a pipeline cost the sending worker ~3 times the CPU.
# ARGV: the minute's TTL, the hours' TTL, the transport, then field and increment pairs (an outcome,
# latency_us, timed).
RECORD = """
for i = 1, 3 do
  local prefix = i == 1 and '' or 'h_'
  for j = 4, #ARGV, 2 do
    redis.call('HINCRBY', KEYS[i], prefix .. ARGV[j], ARGV[j + 1])
    if ARGV[j] == 'refused' and i > 1 then
      redis.call('HINCRBY', KEYS[i], 'bounced', ARGV[j + 1])
    end
  end
  redis.call('EXPIRE', KEYS[i], i == 1 and ARGV[1] or ARGV[2])
end
redis.call('SADD', KEYS[4], ARGV[3])
"""

# Whether this worker may send the probe now: one at a time across all workers (clock in ARGV).
PROBE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) - last < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2] * 10)
return 1
"""


@dataclass(frozen=True)
class Status:
    attempts: int = 0  # in the short window
    error_rate: float = 0.0
    deferral_rate: float = 0.0
    latency: float = 0.0  # mean seconds
    sent: int = 0  # in the long window
    bounce_rate: float = 0.0
    complaint_rate: float = 0.0
    share: float = 1.0  # what the transport's weight is multiplied by
    out: bool = False
    reason: str = ""


def _share(value: float, limit: Limit, count: int) -> float:
    if count < limit.min_messages or value <= limit.warning:
        return 1.0
    if value >= limit.out:
        return 0.0
    return 1 - (1 - LOWEST_SHARE) * (value - limit.warning) / (limit.out - limit.warning)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _judged(counts: dict[str, int]) -> Status:
    attempts = counts["sent"] + counts["deferred"] + counts["error"] + counts["refused"]
    handed = counts["h_sent"] + counts["h_refused"]
    status = Status(
        attempts=attempts,
        error_rate=_ratio(counts["error"], attempts),
        deferral_rate=_ratio(counts["deferred"], attempts),
        latency=_ratio(counts["latency_us"], counts["timed"]) / MICROSECONDS,
        sent=counts["h_sent"],
        bounce_rate=_ratio(counts["bounced"], handed),
        complaint_rate=_ratio(counts["complained"], counts["h_sent"]),
    )
    checks = [
        ("error rate", status.error_rate, ERRORS, attempts, True),
        ("deferral rate", status.deferral_rate, DEFERRALS, attempts, True),
        ("bounce rate", status.bounce_rate, BOUNCES, handed, True),
        ("complaint rate", status.complaint_rate, COMPLAINTS, counts["h_sent"], True),
        ("latency", status.latency, LATENCY, counts["timed"], False),
    ]
    shares = [
        (_share(value, limit, count), name, value, limit, percent) for name, value, limit, count, percent in checks
    ]
    share, name, value, limit, percent = min(shares, key=lambda s: s[0])
    if share > 0:
        return replace(status, share=share)
    shown = f"{value:.1%}".replace("%", " %") if percent else f"{value:.1f} s"
    limit_shown = f"{limit.out:.1%}".replace("%", " %") if percent else f"{limit.out:.0f} s"
    return replace(status, share=0.0, out=True, reason=f"{name} {shown} (out of rotation from {limit_shown})")


class Health:
    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.clock = clock
        self._probe = redis.register_script(PROBE)
        self._record = redis.register_script(RECORD)
        self._waiting: dict[str, Counter[str]] = {}  # by transport: counts not written yet
        self._writer: asyncio.Task[None] | None = None
        self._write_now: asyncio.Event | None = None
        self._in_flight: set[asyncio.Future[object]] = set()  # counts taken from _waiting, not yet written
        _LIVE.add(self)

    def _minutes(self, key: str, last: int = SHORT_WINDOW) -> list[str]:
        """The last minutes' buckets, the current one last."""
        now = int(self.clock() // 60)
        return [f"health:{key}:m:{minute}" for minute in range(now - last + 1, now + 1)]

    def _hour(self) -> int:
        return int(self.clock() // 3600)

    def _hours(self, key: str, last: int = LONG_WINDOW) -> list[str]:
        """The hours that judge the transport (started afresh when it returns to rotation), the
        current one last."""
        now = self._hour()
        return [f"health:{key}:h:{hour}" for hour in range(now - last + 1, now + 1)]

    def record(self, key: str, outcome: Outcome, seconds: float | None = None) -> None:
        """One message's outcome at a transport, and how long the transport took to answer: written
        by this process's writer, at once for a failure."""
        counts = self._waiting.setdefault(key, Counter())
        counts[outcome] += 1
        if seconds is not None:
            counts["latency_us"] += int(seconds * MICROSECONDS)
            counts["timed"] += 1
        write_now = self._writing()
        if outcome != "sent":
            write_now.set()

    def _writing(self) -> asyncio.Event:
        """This process's writer, started if none runs on this event loop; set its event to have it
        write without waiting out WRITE_SECONDS."""
        if (
            self._writer is None
            or self._write_now is None
            or self._writer.done()
            or self._writer.get_loop() is not asyncio.get_running_loop()
        ):
            self._write_now = asyncio.Event()
            self._writer = asyncio.ensure_future(self._write_later(self._write_now))
        return self._write_now

    async def flush(self) -> None:
        """Write every count this process has not written yet, and wait for those on their way."""
        for key in list(self._waiting):
            await self._write(key)
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(write for write in self._in_flight if write.get_loop() is loop))

    async def _write_later(self, write_now: asyncio.Event) -> None:
        while self._waiting:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(write_now.wait(), WRITE_SECONDS)
            write_now.clear()
            try:
                await self.flush()
            except RedisError:
                log.warning("transport health counts were not written", exc_info=True)

    async def _write(self, key: str) -> None:
        counts = self._waiting.pop(key, None)
        if not counts:
            return
        (minute,), (hour,), figures = self._minutes(key, 1), self._hours(key, 1), _figures(key, self._hour())
        ttls = [(SHORT_WINDOW + 1) * 60, (LONG_WINDOW + 1) * 3600]
        increments = [part for field, count in counts.items() for part in (field, count)]
        write = asyncio.ensure_future(
            self._record(keys=[minute, hour, figures, TRANSPORTS], args=[*ttls, key, *increments])
        )
        self._in_flight.add(write)
        write.add_done_callback(self._in_flight.discard)
        await write

    async def feedback(self, key: str, bounced: int = 0, complained: int = 0) -> None:
        """Bounces and complaints reported later (DSNs, provider webhooks, feedback loops)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(TRANSPORTS, key)
            for bucket in (*self._hours(key, 1), _figures(key, self._hour())):
                pipe.hincrby(bucket, "bounced", bounced)
                pipe.hincrby(bucket, "complained", complained)
                pipe.expire(bucket, (LONG_WINDOW + 1) * 3600)
            await pipe.execute()

    async def snapshot(self, keys: Sequence[str]) -> dict[str, Status]:
        """Each transport's status now (this process's own counts written first); one that just
        passed an out level is taken out here."""
        await self.flush()
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(f"health:{key}:out")
                for bucket in self._minutes(key) + self._hours(key):
                    pipe.hgetall(bucket)
            replies = await pipe.execute()
        statuses, per_key = {}, 1 + SHORT_WINDOW + LONG_WINDOW
        for i, key in enumerate(keys):
            out, *buckets = replies[i * per_key : (i + 1) * per_key]
            counts: dict[str, int] = defaultdict(int)
            for bucket in buckets:
                for field, value in bucket.items():
                    counts[field.decode()] += int(value)
            status = _judged(counts)
            if out:
                status = replace(status, share=0.0, out=True, reason=out.decode())
            elif status.out:
                await self.redis.set(f"health:{key}:out", status.reason, nx=True)
            statuses[key] = status
        return statuses

    async def probe(self, key: str) -> bool:
        """Whether this message should go first to a transport that is out of rotation."""
        keys = [f"health:{key}:out", f"health:{key}:probe"]
        return bool(await self._probe(keys=keys, args=[int(self.clock()), PROBE_SECONDS]))

    async def returned(self, key: str) -> None:
        """A probe succeeded: back in rotation, judged from now on."""
        self._waiting.pop(key, None)
        await self.redis.delete(f"health:{key}:out", *self._minutes(key), *self._hours(key))


_LIVE: weakref.WeakSet[Health] = weakref.WeakSet()  # this process's, for write_all


async def write_all() -> None:
    """Every count this process holds and has not written yet, of the Health objects counting on
    this event loop (a worker stopping; tests, before they start afresh)."""
    loop = asyncio.get_running_loop()
    for health in list(_LIVE):
        if health._writer is not None and health._writer.get_loop() is loop:
            await health.flush()


def _figures(key: str, hour: int) -> str:
    """An hour's counts as they were, for the hourly figures: never started afresh."""
    return f"health:{key}:f:{hour}"


@dataclass(frozen=True)
class HourFigures:
    transport: str
    hour: int  # hours since the epoch
    counts: dict[str, int]  # sent, deferred, error, refused, latency_us, timed, bounced, complained


async def recent_hours(redis: Redis, hours: int = 2, clock: Callable[[], float] = time.time) -> list[HourFigures]:
    """Every transport's counts of the last `hours` hours (this one included), as they are now."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.smembers(TRANSPORTS)
        (members,) = await pipe.execute()
    keys = sorted(k.decode() for k in members)
    now = int(clock() // 3600)
    wanted = [(key, hour) for key in keys for hour in range(now - hours + 1, now + 1)]
    async with redis.pipeline(transaction=False) as pipe:
        for key, hour in wanted:
            pipe.hgetall(_figures(key, hour))
        replies = await pipe.execute()
    return [
        HourFigures(key, hour, {field.decode().removeprefix("h_"): int(value) for field, value in reply.items()})
        for (key, hour), reply in zip(wanted, replies, strict=True)
        if reply
    ]
