"""The choice itself, without I/O: the rule that decides a message's transports, and the order in
which it tries them.

Rules are tried by position; the first whose every condition holds wins (an empty condition holds
for every message). Its targets are ordered by a weighted draw without replacement (each key
u^(1/w), highest first: Efraimidis and Spirakis), the weight multiplied by the transport's health
share, so over many messages each transport's share of first tries is its weight over the sum.
The following ones are the failover order for that message. A transport out of rotation (share 0)
is tried only after all the others.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webapp.routing.schemas import GROUP_OF_DOMAIN


@dataclass(frozen=True)
class Target:
    transport: str  # "smtp:<id>" or "provider:<id>"
    weight: int


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    domains: frozenset[str]  # domains and group names; empty: any
    kinds: frozenset[str]  # empty: any
    campaign_id: int | None  # None: any
    targets: tuple[Target, ...]

    def matches(self, domain: str, kind: str, campaign_id: int | None) -> bool:
        domain = domain.lower()
        return (
            (not self.domains or domain in self.domains or GROUP_OF_DOMAIN.get(domain, "") in self.domains)
            and (not self.kinds or kind in self.kinds)
            and (self.campaign_id is None or self.campaign_id == campaign_id)
        )


def matching_rule(
    rules: Sequence[CompiledRule], domain: str, kind: str, campaign_id: int | None
) -> CompiledRule | None:
    """The first of `rules` (in position order) that matches the message."""
    return next((r for r in rules if r.matches(domain, kind, campaign_id)), None)


def weighted_order(targets: Sequence[Target], shares: Mapping[str, float], rng: random.Random) -> list[str]:
    """Every target once: those in rotation by a weighted draw, then the others."""
    weighted = [(t.transport, t.weight * shares.get(t.transport, 1.0)) for t in targets]
    drawn = sorted(((rng.random() ** (1 / weight), key) for key, weight in weighted if weight > 0), reverse=True)
    return [key for _, key in drawn] + [key for key, weight in weighted if weight <= 0]
