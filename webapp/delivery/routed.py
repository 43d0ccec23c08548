"""Routing as the Mailer applies it to each message (one Routing per worker process): the order of
its transports from the routing rules and the transports' health, the recipient domain's
throttle before anything goes, and each outcome recorded for health and the domain's rate.

Rules and throttles are reloaded with the mailer's configuration (smtp_config.py, at most
RECHECK_SECONDS old); the health statuses are read from Redis at most every SNAPSHOT_SECONDS.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from webapp.delivery.transports.base import Route, Transport, TransportRef
from webapp.delivery.transports.order import priority_order
from webapp.routing.service.choice import CompiledRule, matching_rule, weighted_order
from webapp.routing.service.domain_rates import DomainRates
from webapp.routing.service.health import Health, Outcome, Status

SNAPSHOT_SECONDS = 5.0
log = logging.getLogger("mailroom.delivery")


class Unrouted:
    """No rules, throttles or health: every transport by priority (a Mailer built without routing)."""

    async def admit(self, route: Route) -> None:
        return None

    async def order(self, transports: Sequence[Transport], route: Route, turn: int) -> list[Transport]:
        return priority_order(transports, route, turn)

    async def record(self, ref: TransportRef, route: Route, outcome: Outcome, seconds: float | None) -> None:
        return None


UNROUTED = Unrouted()


class Routing(Unrouted):
    def __init__(
        self,
        redis: Redis,
        rules: Sequence[CompiledRule] = (),
        limits: Mapping[str, int] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.redis = redis
        self.health = Health(redis)
        self.rng = rng or random.Random()
        self.use(rules, limits or {})
        self._statuses: dict[str, Status] = {}
        self._read_at = -SNAPSHOT_SECONDS

    def use(self, rules: Sequence[CompiledRule], limits: Mapping[str, int]) -> None:
        """The rules and throttles as configured now."""
        self.rules = list(rules)
        self.domains = DomainRates(self.redis, limits)

    async def admit(self, route: Route) -> None:
        """Wait for the recipient domain's next slot; DomainBusy when it is far off."""
        await self.domains.take(route.recipient_domain)

    async def order(self, transports: Sequence[Transport], route: Route, turn: int) -> list[Transport]:
        """The first matching rule's transports (those configured now) by weight and health, or
        all of them by priority when no rule matches; out of rotation last, but a probe first."""
        statuses = await self._current_statuses([t.ref.key for t in transports])
        by_key = {t.ref.key: t for t in transports}
        usable = [r for r in self.rules if any(t.transport in by_key for t in r.targets)]
        rule = matching_rule(usable, route.recipient_domain, route.kind, route.campaign_id)
        if rule is None:
            candidates = priority_order(transports, route, turn)
        else:
            targets = [t for t in rule.targets if t.transport in by_key]
            shares = {key: status.share for key, status in statuses.items()}
            drawn = [by_key[key] for key in weighted_order(targets, shares, self.rng)]
            candidates = sorted(drawn, key=lambda t: not t.available)  # one marked down: last, for now
        out = [t for t in candidates if t.ref.key in statuses and statuses[t.ref.key].out]
        probes = [t for t in out if await self.health.probe(t.ref.key)]
        return probes + [t for t in candidates if t not in out] + [t for t in out if t not in probes]

    async def record(self, ref: TransportRef, route: Route, outcome: Outcome, seconds: float | None) -> None:
        """What became of a message at a transport (a 4xx also slows its recipient's domain).
        Never raises: the message's fate is known, and it must not be taken back (and sent
        again) because its counting failed."""
        status = self._statuses.get(ref.key)
        try:
            if outcome == "sent" and status is not None and status.out:  # its probe succeeded
                await self.health.returned(ref.key)
                self._statuses[ref.key] = Status()
            self.health.record(ref.key, outcome, seconds)
            if outcome == "deferred":
                await self.domains.deferred(route.recipient_domain)
        except RedisError:
            log.warning("the outcome of a message at %s was not counted", ref.key, exc_info=True)

    async def _current_statuses(self, keys: list[str]) -> dict[str, Status]:
        if time.monotonic() - self._read_at >= SNAPSHOT_SECONDS:
            self._read_at = time.monotonic()  # first: the messages meanwhile use the last snapshot
            self._statuses = await self.health.snapshot(keys)
        return self._statuses
