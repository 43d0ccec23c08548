"""Per-recipient-domain throttles: messages per minute to one domain (or a group of domains that
share their receiving servers, such as Microsoft's), counted in Redis so every worker and host
shares them; a 4xx deferral from a domain lowers its rate on its own, and the rate comes back
slowly."""

from __future__ import annotations

import asyncio

import pytest

from webapp.core.redis import get_redis
from webapp.routing.service.domain_rates import DomainBusy, DomainRates

GMAIL_PER_MINUTE = 6  # one message every 10 s: the second one at once is clearly early


def rates(**limits: int) -> DomainRates:
    return DomainRates(get_redis(), limits)


async def set_back(bucket: str, seconds: int) -> None:
    """Pretend the last slow-down happened `seconds` earlier (how time passes for the recovery)."""
    key = f"domain-rate:{bucket}:slowed"
    slowed_at = int(await get_redis().hget(key, "t"))
    await get_redis().hset(key, "t", slowed_at - seconds * 1_000_000)


async def test_a_domain_over_its_rate_makes_the_next_message_wait_for_its_slot(db):
    throttle = rates(**{"gmail.com": GMAIL_PER_MINUTE})
    await throttle.take("gmail.com")
    with pytest.raises(DomainBusy) as busy:
        await throttle.take("gmail.com")
    assert 0 < busy.value.seconds <= 60 / GMAIL_PER_MINUTE


async def test_the_limit_is_shared_by_every_worker(db):
    await rates(**{"gmail.com": GMAIL_PER_MINUTE}).take("gmail.com")
    with pytest.raises(DomainBusy):
        await rates(**{"gmail.com": GMAIL_PER_MINUTE}).take("gmail.com")  # another process's limiter


async def test_domains_without_a_limit_and_other_domains_are_not_held_back(db):
    throttle = rates(**{"gmail.com": GMAIL_PER_MINUTE})
    await throttle.take("gmail.com")
    await throttle.take("example.org")
    await throttle.take("example.org")
    await throttle.take("yahoo.com")


async def test_a_group_shares_one_limit_across_its_domains(db):
    throttle = rates(microsoft=GMAIL_PER_MINUTE)
    await throttle.take("hotmail.com")
    with pytest.raises(DomainBusy):
        await throttle.take("outlook.com")


async def test_a_limit_on_one_domain_wins_over_its_group(db):
    throttle = rates(microsoft=GMAIL_PER_MINUTE, **{"msn.com": 600})
    assert throttle.bucket("msn.com") == "msn.com"
    assert throttle.bucket("live.com") == "microsoft"
    assert throttle.bucket("LIVE.COM") == "microsoft"
    assert throttle.bucket("example.org") is None


async def test_a_deferral_halves_the_rate_once_for_a_burst_of_deferrals(db):
    throttle = rates(**{"gmail.com": 600})
    assert await throttle.per_minute("gmail.com") == 600
    assert await throttle.deferred("gmail.com")
    assert not await throttle.deferred("gmail.com")  # the same burst of 4xx replies
    assert await throttle.per_minute("gmail.com") == pytest.approx(300, rel=0.01)


async def test_repeated_deferrals_slow_down_to_a_floor(db):
    throttle = rates(**{"gmail.com": 600})
    await throttle.deferred("gmail.com")
    for _ in range(10):
        await set_back("gmail.com", 60)  # each deferral a minute after the last
        await throttle.deferred("gmail.com")
    assert await throttle.per_minute("gmail.com") == pytest.approx(600 * 0.05, rel=0.1)


async def test_a_slowed_domain_recovers_slowly_and_completely(db):
    throttle = rates(**{"gmail.com": 600})
    await throttle.deferred("gmail.com")
    await set_back("gmail.com", 5 * 60)
    assert await throttle.per_minute("gmail.com") == pytest.approx(360, rel=0.01)  # +10 % of 600 in 5 min
    await set_back("gmail.com", 30 * 60)
    assert await throttle.per_minute("gmail.com") == 600


async def test_a_slowed_domain_spaces_its_messages_further_apart(db):
    throttle = rates(**{"gmail.com": 12})  # one every 5 s
    await throttle.deferred("gmail.com")
    await throttle.take("gmail.com")
    with pytest.raises(DomainBusy) as busy:
        await throttle.take("gmail.com")
    assert busy.value.seconds > 7.5  # ten seconds apart now


async def test_a_deferral_from_an_unthrottled_domain_changes_nothing(db):
    throttle = rates(**{"gmail.com": 600})
    assert not await throttle.deferred("example.org")
    assert await throttle.per_minute("example.org") is None


async def test_messages_within_the_wait_each_reserve_the_next_slot_and_the_rest_are_busy(db):
    throttle = rates(**{"gmail.com": 30})  # one every 2 s: the 4th of a burst would wait 6 s
    outcomes = await asyncio.gather(*(throttle.take("gmail.com") for _ in range(4)), return_exceptions=True)
    assert outcomes.count(None) == 3
    (busy,) = [o for o in outcomes if isinstance(o, DomainBusy)]
    assert 4 < busy.seconds <= 6
