"""The Mailer with routing, over real SMTP servers: a matching rule's transports by weight, health
taking a transport out of rotation and a probe bringing it back, the recipient domain's throttle
and a 4xx deferral slowing that domain, and every outcome counted for health."""

from __future__ import annotations

import random

import pytest

from tests.support.smtp import SmtpSink, free_port
from webapp.core.redis import get_redis
from webapp.delivery.mailer import Mailer, Throttled, TransientFailure
from webapp.delivery.routed import Routing
from webapp.delivery.smtp_pool import ServerPool
from webapp.delivery.smtp_session import SmtpTarget
from webapp.delivery.transports.base import Route
from webapp.routing.service.choice import CompiledRule, Target
from webapp.routing.service.domain_rates import DomainRates
from webapp.routing.service.health import Health

MESSAGE = b"From: news@example.com\r\nTo: someone@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"


def mailer(*ports: int, rules=(), limits=None) -> Mailer:
    redis = get_redis()
    pools = [
        ServerPool(SmtpTarget(id=i, name=f"relay {i}", host="127.0.0.1", port=port, priority=i), redis, lambda: True)
        for i, port in enumerate(ports, start=1)
    ]
    return Mailer(pools, Routing(redis, rules, limits, rng=random.Random(5)))


def rule(*targets: tuple[str, int], domains=(), kinds=()) -> CompiledRule:
    return CompiledRule(1, "rule", frozenset(domains), frozenset(kinds), None, tuple(Target(k, w) for k, w in targets))


async def send(m: Mailer, recipient: str, kind: str = "marketing") -> str:
    taken = await m.send("news@example.com", recipient, MESSAGE, route=Route.to(recipient, kind, campaign_id=3))
    return taken.by.key


async def test_a_rule_sends_its_domains_through_its_transport_and_others_go_by_priority(db):
    with SmtpSink() as first, SmtpSink() as second:
        m = mailer(first.port, second.port, rules=[rule(("smtp:2", 1), domains=["microsoft"])])
        assert await send(m, "ann@hotmail.com") == "smtp:2"
        assert await send(m, "bob@example.org") == "smtp:1"
        await m.close()


async def test_a_rule_for_one_kind_leaves_the_others_alone(db):
    with SmtpSink() as first, SmtpSink() as second:
        m = mailer(first.port, second.port, rules=[rule(("smtp:2", 1), kinds=["transactional"])])
        assert await send(m, "ann@example.org", kind="transactional") == "smtp:2"
        assert await send(m, "ann@example.org", kind="marketing") == "smtp:1"
        await m.close()


async def test_weights_share_the_messages_between_transports(db):
    with SmtpSink() as first, SmtpSink() as second:
        m = mailer(first.port, second.port, rules=[rule(("smtp:1", 1), ("smtp:2", 1))])
        takers = [await send(m, f"r{i}@example.org") for i in range(30)]
        assert 5 < takers.count("smtp:1") < 25 and len(first.messages) + len(second.messages) == 30
        await m.close()


async def test_a_failing_transport_of_a_rule_hands_over_to_the_rules_next_one(db):
    with SmtpSink() as second:
        m = mailer(free_port(), second.port, rules=[rule(("smtp:1", 1000), ("smtp:2", 1))])
        assert await send(m, "ann@example.org") == "smtp:2"
        await m.routing.health.flush()  # as the worker does at once for a failure
        assert (await Health(get_redis()).snapshot(["smtp:1"]))["smtp:1"].attempts == 1  # its error, counted
        assert await send(m, "bob@example.org") == "smtp:2"  # marked down: not tried again meanwhile
        assert (await Health(get_redis()).snapshot(["smtp:1"]))["smtp:1"].attempts == 1
        await m.close()


async def test_a_transport_out_of_rotation_gets_one_probe_and_is_back_when_it_succeeds(db):
    health = Health(get_redis())
    for _ in range(30):
        health.record("smtp:1", "error")
    await health.snapshot(["smtp:1"])  # judged: out of rotation
    with SmtpSink() as first, SmtpSink() as second:
        m = mailer(first.port, second.port, rules=[rule(("smtp:1", 1000), ("smtp:2", 1))])
        assert await send(m, "probe@example.org") == "smtp:1"  # the probe goes first, and succeeds
        await m.routing.health.flush()  # as the worker does within a second
        status = (await health.snapshot(["smtp:1"]))["smtp:1"]
        assert not status.out and status.attempts == 1
        await m.close()


async def test_while_its_probe_fails_a_transport_stays_out_and_gets_no_share(db):
    health = Health(get_redis())
    for _ in range(30):
        health.record("smtp:1", "error")
    await health.snapshot(["smtp:1"])
    with SmtpSink() as second:
        m = mailer(free_port(), second.port, rules=[rule(("smtp:1", 1000), ("smtp:2", 1))])
        assert [await send(m, f"r{i}@example.org") for i in range(3)] == ["smtp:2"] * 3
        assert (await health.snapshot(["smtp:1"]))["smtp:1"].out
        assert len(second.messages) == 3
        await m.close()


async def test_a_domain_over_its_throttle_waits_for_later_without_sending(db):
    with SmtpSink() as sink:
        m = mailer(sink.port, limits={"gmail.com": 6})
        await send(m, "ann@gmail.com")
        with pytest.raises(Throttled) as throttled:
            await send(m, "bob@gmail.com")
        assert throttled.value.retry_after > 0
        await send(m, "bob@example.org")  # another domain is not held back
        assert sink.handler.recipients() == ["someone@example.org", "someone@example.org"]
        await m.close()


async def test_a_deferral_slows_the_domain_down_and_counts_against_the_transport(db):
    with SmtpSink(lambda address, attempt: "451 4.7.0 Try again later") as sink:
        m = mailer(sink.port, limits={"yahoo": 600})
        with pytest.raises(TransientFailure):
            await send(m, "ann@yahoo.com")
        assert await DomainRates(get_redis(), {"yahoo": 600}).per_minute("yahoo") == pytest.approx(300, rel=0.01)
        await m.routing.health.flush()
        status = (await Health(get_redis()).snapshot(["smtp:1"]))["smtp:1"]
        assert status.attempts == 1 and status.deferral_rate == 1
        await m.close()


async def test_a_refused_mailbox_counts_as_a_bounce_of_the_transport(db):
    with SmtpSink(lambda address, attempt: "550 5.1.1 No such user") as sink:
        m = mailer(sink.port)
        with pytest.raises(Exception, match="No such user"):
            await send(m, "gone@example.org")
        await m.routing.health.flush()
        status = (await Health(get_redis()).snapshot(["smtp:1"]))["smtp:1"]
        assert status.bounce_rate == 1 and status.error_rate == 0
        await m.close()
