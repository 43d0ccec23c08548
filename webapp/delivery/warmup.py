"""Warm-up plans in the send engine: each plan's maximum for today, counted in Redis so that every
worker process and host shares it. A message over the maximum waits for the next day (pending,
with its retry time then); under a held plan it waits until staff release the plan (looked at again
every HELD_RECHECK_SECONDS, or soon after a release). Never failed, never lost.

The plans are read from the database every PLANS_RECHECK_SECONDS per process, so an edit, a hold
or a release applies within that time."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.queries import Claimed, Outcome
from webapp.warmup.service import quota as warmup_quota
from webapp.warmup.service.campaigns import from_domain
from webapp.warmup.service.quota import PlanLimit
from webapp.warmup.service.schedule import seconds_until_next_day

HELD_RECHECK_SECONDS = 300

# Up to ARGV[1] messages, as many as today's maximum ARGV[2] still allows, counted at once: how
# many were granted. Every worker asks the same counter, so together they never pass the maximum.
TAKE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local granted = math.max(0, math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - count))
if granted > 0 then
  redis.call('INCRBY', KEYS[1], granted)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return granted
"""


@dataclass
class _Limits:
    """The process's copy of the plans' limits for today, and when it was read."""

    plans: list[PlanLimit] = field(default_factory=list)
    read_at: float = float("-inf")


_limits = _Limits()


async def limits() -> list[PlanLimit]:
    if time.monotonic() - _limits.read_at >= warmup_quota.PLANS_RECHECK_SECONDS:
        async with get_sessionmaker()() as session:
            _limits.plans = await warmup_quota.limits_today(session)
        _limits.read_at = time.monotonic()
    return _limits.plans


async def take(plan: PlanLimit, wanted: int) -> int:
    """How many of `wanted` messages may go under the plan today (taken from its count)."""
    if plan.limit is None:
        return wanted
    key = warmup_quota.counter_key(plan.plan_id, datetime.now(UTC).date())
    script = get_redis().register_script(TAKE)
    return int(await script(keys=[key], args=[wanted, plan.limit, warmup_quota.COUNTER_SECONDS]))


def _waiting(items: Sequence[Claimed], plan: PlanLimit) -> list[Outcome]:
    if plan.held_reason:
        error = f"{warmup_quota.held_error(plan.plan_id)} “{plan.name}”: {plan.held_reason}"
        retry = HELD_RECHECK_SECONDS
    else:
        error = f"Waits for tomorrow: warm-up plan “{plan.name}” sent its {plan.limit:,} messages for today."
        retry = int(seconds_until_next_day(datetime.now(UTC))) + 1
    return [Outcome(item.id, "pending", error, retry_seconds=retry, throttled=True) for item in items]


async def within_domain_plan(from_email: str, items: list[Claimed]) -> tuple[list[Claimed], list[Outcome]]:
    """A claimed batch From this address: (what may go now, the outcomes of the rest, which wait)."""
    domain = from_domain(from_email)
    plan = next((p for p in await limits() if p.from_domain == domain), None)
    if plan is None or not items:
        return items, []
    granted = 0 if plan.held_reason else await take(plan, len(items))
    return items[:granted], _waiting(items[granted:], plan)
