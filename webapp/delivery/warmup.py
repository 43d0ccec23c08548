"""Warm-up plans in the send engine: each plan's maximum for today, counted in Redis so that every
worker process and host shares it. A message over the maximum waits for the next day (pending,
with its retry time then); under a held plan it waits until staff release the plan (looked at again
every HELD_RECHECK_SECONDS, and at once on a release). Never failed, never lost.

The plans' maxima are read from the database every PLANS_RECHECK_SECONDS per process, so an edit
applies within that time; a hold or release applies to the next batch (it is checked in Redis)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.queries import Claimed, Outcome
from webapp.delivery.smtp_session import QuotaSpent
from webapp.delivery.transports.base import TransportRef
from webapp.warmup.service import quota as warmup_quota
from webapp.warmup.service.campaigns import from_domain
from webapp.warmup.service.quota import PlanLimit
from webapp.warmup.service.schedule import seconds_until_next_day

HELD_RECHECK_SECONDS = 300

# Up to ARGV[1] messages, as many as today's maximum ARGV[2] (-1: no maximum) still allows,
# counted at once: {how many were granted, why the plan is held ('' if it is not)}. Every worker
# asks the same counter, so together they never pass the maximum. KEYS: the day's counter, the hold.
TAKE = """
local held = redis.call('GET', KEYS[2])
if held then
  return {0, held}
end
local wanted, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local granted = wanted
if limit >= 0 then
  granted = math.max(0, math.min(wanted, limit - count))
end
redis.call('INCRBY', KEYS[1], granted)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {granted, ''}
"""


@dataclass
class _Limits:
    """The process's copy of the plans' limits for today (None: not read yet), and when it was read."""

    plans: list[PlanLimit] | None = None
    read_at: float = float("-inf")


_limits = _Limits()


async def limits() -> list[PlanLimit]:
    """Every active plan's limit today. One message reads them again when they are due; the others
    meanwhile go by the copy they have (but wait for the first one)."""
    if _limits.plans is None or time.monotonic() - _limits.read_at >= warmup_quota.PLANS_RECHECK_SECONDS:
        _limits.read_at = time.monotonic()
        async with get_sessionmaker()() as session:
            _limits.plans = await warmup_quota.active_limits(session)
    return _limits.plans


@dataclass(frozen=True)
class Taken:
    granted: int
    held_reason: str  # set: the plan is held back (and nothing was granted)


async def take(plan: PlanLimit, wanted: int) -> Taken:
    """How many of `wanted` messages may go under the plan now (taken from today's count)."""
    keys = [warmup_quota.counter_key(plan.plan_id, datetime.now(UTC).date()), warmup_quota.held_key(plan.plan_id)]
    limit = -1 if plan.limit is None else plan.limit
    script = get_redis().register_script(TAKE)
    granted, held = await script(keys=keys, args=[wanted, limit, warmup_quota.COUNTER_SECONDS])
    return Taken(int(granted), held.decode() if isinstance(held, bytes) else str(held))


def _waiting(items: Sequence[Claimed], plan: PlanLimit, held_reason: str) -> list[Outcome]:
    if held_reason:
        error = f"{warmup_quota.held_error(plan.plan_id)} “{plan.name}”: {held_reason}"
        retry = HELD_RECHECK_SECONDS
    else:
        error = f"Waits for tomorrow: warm-up plan “{plan.name}” sent its {_messages(plan.limit)} for today."
        retry = int(seconds_until_next_day(datetime.now(UTC))) + 1
    return [Outcome(item.id, "pending", error, retry_seconds=retry, throttled=True) for item in items]


async def within_domain_plan(from_email: str, items: list[Claimed]) -> tuple[list[Claimed], list[Outcome]]:
    """A claimed batch From this address: (what may go now, the outcomes of the rest, which wait)."""
    domain = from_domain(from_email)
    plan = next((p for p in await limits() if p.from_domain == domain), None)
    if plan is None or not items:
        return items, []
    taken = await take(plan, len(items))
    return items[: taken.granted], _waiting(items[taken.granted :], plan, taken.held_reason)


async def take_one(ref: TransportRef) -> None:
    """Before a message goes through this transport: QuotaSpent if its plan's maximum for today is
    reached or the plan is held back (the Mailer then tries the next transport, and when every one
    is spent the message waits: Throttled). A message counts once it is let through, even if the
    transport then fails it, as the hourly and daily limits count."""
    if ref.id is None:
        return
    plan = next(
        (p for p in await limits() if (p.smtp_server_id, p.provider_id) == (ref.smtp_server_id, ref.provider_id)),
        None,
    )
    if plan is None:
        return
    taken = await take(plan, 1)
    if taken.held_reason:
        raise QuotaSpent(
            f"{warmup_quota.held_error(plan.plan_id)} “{plan.name}”: {taken.held_reason}", HELD_RECHECK_SECONDS
        )
    if not taken.granted:
        raise QuotaSpent(
            f"warm-up plan “{plan.name}” sent its {_messages(plan.limit)} for today",
            seconds_until_next_day(datetime.now(UTC)),
        )


def _messages(count: int | None) -> str:
    """The day's maximum in words; None (no maximum) never reaches a message that it was spent."""
    return "messages" if count is None else f"{count:,} message" + ("" if count == 1 else "s")
