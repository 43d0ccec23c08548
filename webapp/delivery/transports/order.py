"""The order the Mailer tries transports in for a message no routing rule matches (and for a
Mailer built without routing): by priority."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from webapp.delivery.transports.base import Route, Transport


def priority_order(transports: Sequence[Transport], route: Route, turn: int) -> list[Transport]:
    """By priority, taking turns (`turn` counts the messages) among transports of the same
    priority; healthy ones first, then those marked down, in case one is back. The route plays no
    part here."""
    ordered: list[Transport] = []
    for _, group in itertools.groupby(sorted(transports, key=lambda t: t.priority), key=lambda t: t.priority):
        same = list(group)
        start = turn % len(same)
        ordered += same[start:] + same[:start]
    return sorted(ordered, key=lambda t: not t.available)
