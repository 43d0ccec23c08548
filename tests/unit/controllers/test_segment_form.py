"""The builder's form encoding: rules -> flat fields -> rules, the buttons' actions, and what a
changed field or a hand-made post turns into. The parser (services/segment_rules.py) is the judge
of every result."""

from __future__ import annotations

from typing import Any

import pytest

from webapp.core.errors import ValidationFailed
from webapp.lists.schemas.rule_form import encode_rules, parse_form
from webapp.lists.schemas.rules import parse_rules

NESTED = {
    "operator": "AND",
    "conditions": [
        {"field": "tags", "op": "has_any", "value": ["vip", "gold"]},
        {
            "operator": "OR",
            "conditions": [
                {"field": "last_opened", "op": "within_last", "value": 30},
                {"field": "custom.plan", "op": "eq", "value": "pro"},
                {
                    "operator": "AND",
                    "conditions": [
                        {"field": "status", "op": "in", "value": ["active", "bounced"]},
                        {"field": "emails_opened", "op": "gte", "value": 3},
                    ],
                },
            ],
        },
        {"field": "email", "op": "is_set"},
        {"field": "date_added", "op": "gt", "value": "-90d"},
        {"field": "list", "op": "not_in", "value": [7, 12]},
        {"field": "engagement", "op": "opened", "value": 41},
        {"field": "engagement", "op": "clicked_within", "value": 14},
        {"field": "status", "op": "eq", "value": "active"},
        {"field": "emails_sent", "op": "lt", "value": 2.5},
    ],
}


def posted(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """What the controller gets for a urlencoded body: repeated names become a list, blanks vanish."""
    data: dict[str, Any] = {}
    for name, value in fields:
        if value == "":
            continue
        if name in data:
            data[name] = (data[name] if isinstance(data[name], list) else [data[name]]) + [value]
        else:
            data[name] = value
    return data


def test_every_kind_of_condition_round_trips():
    fields = encode_rules(NESTED)
    assert ("c-0.1.1-field", "custom") in fields and ("c-0.1.1-key", "plan") in fields
    assert ("c-0.1.2.0-value", "active") in fields and ("c-0.1.2.0-value", "bounced") in fields
    assert ("c-0.0-value", "vip, gold") in fields  # tags as comma text
    assert not [name for name, _ in fields if name.startswith("c-0.2-value")]  # "is set" has no value
    assert parse_form(posted(fields)) == NESTED
    parse_rules(NESTED)  # and the result is valid rules


def test_empty_form_is_an_empty_and_group():
    assert parse_form({}) == {"operator": "AND", "conditions": []}
    assert parse_form({"g-0-operator": "OR"}) == {"operator": "OR", "conditions": []}
    assert parse_form(
        posted(encode_rules({"operator": "OR", "conditions": [{"operator": "AND", "conditions": []}]}))
    ) == {"operator": "OR", "conditions": [{"operator": "AND", "conditions": []}]}


def test_rows_keep_their_order_and_are_renumbered():
    data = {
        "g-0-operator": "AND",
        "c-0.10-field": "email",
        "c-0.10-op": "eq",
        "c-0.10-value": "third",
        "c-0.2-field": "email",
        "c-0.2-op": "eq",
        "c-0.2-value": "first",
        "g-0.5-operator": "OR",
        "c-0.5.3-field": "company",
        "c-0.5.3-op": "contains",
        "c-0.5.3-value": "second",
    }
    rules = parse_form(data)
    assert rules == {
        "operator": "AND",
        "conditions": [
            {"field": "email", "op": "eq", "value": "first"},
            {"operator": "OR", "conditions": [{"field": "company", "op": "contains", "value": "second"}]},
            {"field": "email", "op": "eq", "value": "third"},
        ],
    }
    assert [name for name, _ in encode_rules(rules)][:4] == ["g-0-operator", "c-0.0-field", "c-0.0-op", "c-0.0-input"]


def test_fields_that_are_not_rows_are_ignored():
    data = {
        "name": "VIP",
        "csrf_token": "x",
        "action": "refresh",
        "c-0-field": "email",  # the root is a group
        "c-0.0.1-field": "email",
        "c-0.0.1-op": "eq",  # its parent 0.0 is not a group
        "c-0.9.9.9.9.9.9.9.9-field": "email",  # deeper than any form we make
        "c-0.1-colour": "red",
        "x-0.1-field": "email",
        "c-0.a-field": "email",
        "c-0.3-field": ["status", "tags"],
        "c-0.3-op": "eq",
        "c-0.3-value": "active",  # a repeated field: first wins
    }
    assert parse_form(data) == {"operator": "AND", "conditions": [{"field": "status", "op": "eq", "value": "active"}]}


def test_a_changed_field_gets_its_own_operators_and_drops_a_value_of_another_kind():
    # Was "Tags has any of vip"; the user picked Status: has_any is no Status operator, the tag text no status.
    data = {"c-0.0-field": "status", "c-0.0-op": "has_any", "c-0.0-input": "tags", "c-0.0-value": "vip"}
    assert parse_form(data)["conditions"] == [{"field": "status", "op": "eq", "value": ""}]
    # Last opened "after 2026-01-01" -> "in the last N days": the date is not a number of days.
    data = {"c-0.0-field": "last_opened", "c-0.0-op": "within_last", "c-0.0-input": "date", "c-0.0-value": "2026-01-01"}
    assert parse_form(data)["conditions"] == [{"field": "last_opened", "op": "within_last", "value": ""}]
    # First name -> Last name: both text, so what was typed stays.
    data = {"c-0.0-field": "last_name", "c-0.0-op": "contains", "c-0.0-input": "text", "c-0.0-value": "Ada"}
    assert parse_form(data)["conditions"] == [{"field": "last_name", "op": "contains", "value": "Ada"}]
    # To "is set": no value at all.
    data = {"c-0.0-field": "phone", "c-0.0-op": "is_set", "c-0.0-input": "text", "c-0.0-value": "123"}
    assert parse_form(data)["conditions"] == [{"field": "phone", "op": "is_set"}]


@pytest.mark.parametrize(
    ("field", "op", "typed", "value"),
    [
        ("emails_opened", "gt", "3", 3),
        ("emails_opened", "gt", "-2.50", -2.5),
        ("emails_opened", "gt", "three", "three"),  # kept as typed; the parser says "Enter a number."
        ("emails_opened", "gt", "9" * 40, "9" * 40),  # no giant ints
        ("last_clicked", "within_last", "30", 30),
        ("last_clicked", "within_last", "-30", "-30"),
        ("engagement", "opened", "17", 17),
        ("engagement", "opened", "", ""),
        ("tags", "has_all", " VIP ,, gold,", ["VIP", "gold"]),
        ("list", "in", "4", [4]),
        ("status", "not_in", "active", ["active"]),
        ("date_added", "lt", " 2026-01-31 ", "2026-01-31"),
    ],
)
def test_values_are_typed_by_their_input(field, op, typed, value):
    data = {"c-0.0-field": field, "c-0.0-op": op, "c-0.0-value": typed}
    assert parse_form(data)["conditions"][0]["value"] == value


def test_several_items_arrive_as_repeated_fields():
    data = posted([("c-0.0-field", "list"), ("c-0.0-op", "in"), ("c-0.0-value", "3"), ("c-0.0-value", "5")])
    assert parse_form(data)["conditions"] == [{"field": "list", "op": "in", "value": [3, 5]}]
    data = posted([("c-0.0-field", "tags"), ("c-0.0-op", "has_any"), ("c-0.0-value", "a, b"), ("c-0.0-value", "c")])
    assert parse_form(data)["conditions"][0]["value"] == ["a", "b", "c"]


def test_custom_fields_take_their_name_from_the_key_input():
    data = {"c-0.0-field": "custom", "c-0.0-key": " plan ", "c-0.0-op": "gt", "c-0.0-value": "10"}
    assert parse_form(data)["conditions"] == [{"field": "custom.plan", "op": "gt", "value": "10"}]
    nameless = parse_form({"c-0.0-field": "custom", "c-0.0-op": "eq", "c-0.0-value": "x"})
    with pytest.raises(ValidationFailed) as failed:
        parse_rules(nameless)
    assert set(failed.value.errors) == {"rules.conditions[0].field"}


BASE = {
    "g-0-operator": "AND",
    "c-0.0-field": "email",
    "c-0.0-op": "contains",
    "c-0.0-value": "@",
    "g-0.1-operator": "OR",
    "c-0.1.0-field": "company",
    "c-0.1.0-op": "eq",
    "c-0.1.0-value": "Acme",
}


def test_add_condition_appends_an_empty_row_to_the_group():
    rules = parse_form(BASE, "add-condition:0.1")
    assert rules["conditions"][1]["conditions"] == [
        {"field": "company", "op": "eq", "value": "Acme"},
        {"field": "email", "op": "eq", "value": ""},
    ]
    assert parse_form(BASE, "add-condition:0")["conditions"][2] == {"field": "email", "op": "eq", "value": ""}


def test_add_group_nests_a_group_of_the_other_operator_with_one_condition():
    rules = parse_form(BASE, "add-group:0")
    assert rules["conditions"][2] == {"operator": "OR", "conditions": [{"field": "email", "op": "eq", "value": ""}]}
    inner = parse_form(BASE, "add-group:0.1")["conditions"][1]["conditions"][1]
    assert inner["operator"] == "AND"
    # and the result survives another round trip
    again = parse_form(posted(encode_rules(parse_form(BASE, "add-group:0.1"))), "add-condition:0.1.1")
    assert again["conditions"][1]["conditions"][1]["conditions"][1] == {"field": "email", "op": "eq", "value": ""}


def test_remove_takes_out_a_condition_or_a_whole_group():
    assert parse_form(BASE, "remove:0.0")["conditions"] == [
        {"operator": "OR", "conditions": [{"field": "company", "op": "eq", "value": "Acme"}]}
    ]
    assert parse_form(BASE, "remove:0.1")["conditions"] == [{"field": "email", "op": "contains", "value": "@"}]
    assert parse_form(BASE, "remove:0.1.0")["conditions"][1] == {"operator": "OR", "conditions": []}


@pytest.mark.parametrize(
    "action",
    [
        "remove:0",
        "remove:0.7",
        "add-condition:0.0",
        "add-group:0.4",
        "explode:0",
        "refresh",
        "add-condition:",
        "remove:0.1.0.0.0",
    ],
)
def test_actions_that_make_no_sense_change_nothing(action):
    assert parse_form(BASE, action) == parse_form(BASE)
