"""A routing rule's input: what it matches (recipient domains or named groups, message kinds, a
campaign) and its weighted targets, checked the same way for the form and the API."""

from __future__ import annotations

import pytest

from webapp.core.errors import ValidationFailed
from webapp.core.schemas import load
from webapp.routing.schemas import RuleInput

GOOD = {
    "name": "Microsoft through the relay",
    "domains": "microsoft, example.org",
    "kinds": ["marketing"],
    "targets": [{"transport": "smtp:1", "weight": 70}, {"transport": "provider:2", "weight": 30}],
}


def errors(**changes) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        load(RuleInput, GOOD | changes)
    return failed.value.errors


def test_a_good_rule_loads_with_its_domains_normalised():
    values = load(RuleInput, GOOD | {"domains": " Microsoft,\nEXAMPLE.org , example.org"})
    assert values["domains"] == ("microsoft", "example.org")
    assert values["kinds"] == ("marketing",)
    assert [t["weight"] for t in values["targets"]] == [70, 30]


def test_domains_may_be_sent_as_a_list():
    assert load(RuleInput, GOOD | {"domains": ["gmail.com", "yahoo"]})["domains"] == ("gmail.com", "yahoo")


def test_no_domain_and_no_kind_match_every_message():
    values = load(RuleInput, GOOD | {"domains": "", "kinds": []})
    assert values["domains"] == () and values["kinds"] == ()


def test_a_domain_that_is_neither_a_domain_nor_a_group_is_named():
    assert "not-a-domain" in errors(domains="gmail.com, not-a-domain")["domains"]


def test_an_unknown_kind_is_refused():
    assert "marketing, transactional or automation" in errors(kinds=["newsletter"])["kinds"]


def test_a_rule_needs_a_target():
    assert errors(targets=[])["targets"] == "Add at least one transport for this rule."


def test_a_weight_must_be_positive_and_bounded():
    assert "between 1 and 1,000" in errors(targets=[{"transport": "smtp:1", "weight": 0}])["targets.0.weight"]


def test_a_transport_is_an_smtp_server_or_a_provider():
    assert errors(targets=[{"transport": "ftp:1", "weight": 1}])["targets.0.transport"] == "Choose a transport."


def test_a_transport_appears_once():
    twice = [{"transport": "smtp:1", "weight": 1}, {"transport": "smtp:1", "weight": 2}]
    assert errors(targets=twice)["targets"] == "Each transport may appear once in a rule."


def test_a_name_is_required():
    assert errors(name=" ")["name"] == "Enter a name for the rule."
