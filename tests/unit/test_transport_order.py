"""The default order of transports for a message: by priority, taking turns within a priority,
transports marked down last; and the names a transport and a route carry."""

from __future__ import annotations

from redis.asyncio import Redis

from webapp.delivery.smtp_pool import ServerPool
from webapp.delivery.smtp_session import SmtpTarget
from webapp.delivery.transports.base import Route, TransportRef
from webapp.delivery.transports.order import priority_order

ROUTE = Route.to("Someone@Gmail.COM", "marketing", campaign_id=7)


def pools(*priorities: int) -> list[ServerPool]:
    redis = Redis()  # never contacted: the order reads no limits
    return [
        ServerPool(SmtpTarget(id=i, name=f"s{i}", host="127.0.0.1", port=25, priority=p), redis, lambda: True)
        for i, p in enumerate(priorities, start=1)
    ]


def names(ordered: list) -> list[str]:
    return [t.ref.name for t in ordered]


def test_transports_of_the_same_priority_take_turns_before_the_next_priority() -> None:
    transports = pools(1, 0, 0)
    assert names(priority_order(transports, ROUTE, 0)) == ["s2", "s3", "s1"]
    assert names(priority_order(transports, ROUTE, 1)) == ["s3", "s2", "s1"]


def test_a_transport_marked_down_is_tried_last() -> None:
    transports = pools(0, 1)
    transports[0].mark_down("refused")
    assert names(priority_order(transports, ROUTE, 0)) == ["s2", "s1"]


def test_a_route_carries_the_recipients_domain_in_lower_case() -> None:
    assert Route(kind="marketing", campaign_id=7, recipient_domain="gmail.com") == ROUTE


def test_a_transport_is_named_by_its_kind_and_id() -> None:
    smtp, provider, dev = TransportRef("smtp", 3, "a"), TransportRef("provider", 3, "b"), TransportRef("dev", None, "c")
    assert (smtp.key, provider.key, dev.key) == ("smtp:3", "provider:3", "dev")
    assert (smtp.smtp_server_id, smtp.provider_id) == (3, None)
    assert (provider.smtp_server_id, provider.provider_id) == (None, 3)
    assert pools(0)[0].ref == TransportRef("smtp", 1, "s1")
