"""Which transports a message tries, in which order: the first rule (by position) that matches its
recipient domain, kind and campaign; among that rule's targets a weighted draw in which health
lowers a transport's share; transports out of rotation last."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from webapp.routing.service.choice import CompiledRule, Target, matching_rule, weighted_order

A, B, C = "smtp:1", "provider:2", "provider:3"


def rule(rule_id: int, domains=(), kinds=(), campaign_id=None, targets=((A, 1),)) -> CompiledRule:
    return CompiledRule(
        id=rule_id,
        name=f"rule {rule_id}",
        domains=frozenset(domains),
        kinds=frozenset(kinds),
        campaign_id=campaign_id,
        targets=tuple(Target(key, weight) for key, weight in targets),
    )


def first_choices(targets, shares=None, draws=10_000) -> Counter[str]:
    rng = random.Random(12)
    compiled = tuple(Target(key, weight) for key, weight in targets)
    return Counter(weighted_order(compiled, shares or {}, rng)[0] for _ in range(draws))


def test_a_rule_matches_a_domain_or_its_group():
    microsoft = rule(1, domains=["microsoft"])
    assert matching_rule([microsoft], "hotmail.com", "marketing", 5) is microsoft
    assert matching_rule([microsoft], "gmail.com", "marketing", 5) is None
    gmail = rule(2, domains=["gmail.com"])
    assert matching_rule([gmail], "GMAIL.com", "marketing", None) is gmail


def test_every_condition_of_a_rule_must_hold():
    narrow = rule(1, domains=["gmail.com"], kinds=["transactional"], campaign_id=7)
    assert matching_rule([narrow], "gmail.com", "transactional", 7) is narrow
    assert matching_rule([narrow], "gmail.com", "marketing", 7) is None
    assert matching_rule([narrow], "gmail.com", "transactional", 8) is None


def test_the_first_matching_rule_wins():
    specific, catch_all = rule(1, domains=["gmail.com"]), rule(2)
    assert matching_rule([specific, catch_all], "gmail.com", "marketing", None) is specific
    assert matching_rule([specific, catch_all], "yahoo.com", "marketing", None) is catch_all


def test_weights_share_the_messages():
    firsts = first_choices([(A, 70), (B, 30)])
    assert firsts[A] / 10_000 == pytest.approx(0.7, abs=0.02)


def test_every_target_is_tried_once_so_failover_stays_within_the_rule():
    order = weighted_order((Target(A, 1), Target(B, 1), Target(C, 1)), {}, random.Random(1))
    assert sorted(order) == sorted([A, B, C])


def test_a_lowered_share_takes_fewer_messages():
    firsts = first_choices([(A, 50), (B, 50)], shares={A: 0.5})
    assert firsts[A] / 10_000 == pytest.approx(1 / 3, abs=0.02)


def test_a_transport_out_of_rotation_is_tried_last():
    assert first_choices([(A, 90), (B, 10)], shares={A: 0.0})[B] == 10_000
    assert weighted_order((Target(A, 90), Target(B, 10)), {A: 0.0}, random.Random(1)) == [B, A]
