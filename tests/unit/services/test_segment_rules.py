"""Parsing segment rules: typed values, relative dates, and errors that name where they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from webapp.core.errors import ValidationFailed
from webapp.lists.schemas.rules import MAX_CONDITIONS, MAX_DEPTH, Condition, DateValue, Group, parse_rules

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def one(field: str, op: str, value=None) -> Condition:
    group = parse_rules({"operator": "AND", "conditions": [{"field": field, "op": op, "value": value}]})
    return group.conditions[0]


def errors_of(raw) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_rules(raw)
    return caught.value.errors


def test_seed_shape_parses_into_a_typed_tree():
    group = parse_rules(
        {
            "operator": "or",
            "conditions": [
                {"field": "tags", "op": "has_any", "value": ["VIP", "vip", "Press"]},
                {"operator": "AND", "conditions": [{"field": "emails_opened", "op": "gte", "value": "3"}]},
            ],
        }
    )
    assert group == Group(
        "OR",
        (
            Condition("tags", "has_any", ("vip", "press")),
            Group("AND", (Condition("emails_opened", "gte", Decimal(3)),)),
        ),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-90d", NOW - timedelta(days=90)),
        ("-2w", NOW - timedelta(days=14)),
        ("- 6 m", NOW - timedelta(days=180)),
        ("+1y", NOW + timedelta(days=365)),
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T10:00:00+02:00", datetime(2026, 1, 31, 8, 0, tzinfo=UTC)),
        ("2026-01-31T10:00:00", datetime(2026, 1, 31, 10, 0, tzinfo=UTC)),
    ],
)
def test_dates_absolute_and_relative(raw, expected):
    value = one("last_opened", "gte", raw).value
    assert isinstance(value, DateValue) and value.resolve(NOW) == expected
    assert value.is_day == (len(raw) == 10)


def test_days_and_ids_accept_text_from_forms():
    assert one("date_added", "within_last", "30").value == 30
    assert one("date_added", "within_last", "30d").value == 30
    assert one("engagement", "opened", "12").value == 12
    assert one("engagement", "opened_within", 7).value == 7
    assert one("list", "in", "3, 4,").value == (3, 4)
    assert one("status", "in", ["active", "pending"]).value == ("active", "pending")
    assert one("custom.score", "gt", "7.5").value == Decimal("7.5")
    assert one("custom.score", "gt", "b").value == "b"  # ordering as text
    assert one("email", "is_set", "ignored").value is None


@pytest.mark.parametrize(
    ("condition", "path", "message"),
    [
        ({"field": "password", "op": "eq", "value": "x"}, "field", "Unknown field 'password'."),
        ({"field": "custom.bad-key", "op": "eq", "value": "x"}, "field", "Unknown field 'custom.bad-key'."),
        ({"field": ["email"], "op": "eq", "value": "x"}, "field", "Unknown field ['email']."),
        ({"field": "email", "op": "gt", "value": "x"}, "op", "Unknown operator 'gt' for Email"),
        ({"field": "tags", "op": "eq", "value": "x"}, "op", "Unknown operator 'eq' for Tags"),
        ({"field": "email", "op": "eq", "value": "  "}, "value", "Enter a value."),
        ({"field": "email", "op": "eq", "value": {"$ne": 1}}, "value", "Enter a value."),
        ({"field": "email", "op": "eq", "value": "a\x00"}, "value", "The value contains a character that is not"),
        ({"field": "email", "op": "eq", "value": "a" * 501}, "value", "Use at most 500 characters."),
        ({"field": "emails_sent", "op": "gt", "value": "NaN"}, "value", "Enter a number."),
        ({"field": "date_added", "op": "gt", "value": "yesterday"}, "value", "Enter a date"),
        ({"field": "date_added", "op": "within_last", "value": -3}, "value", "Enter a number of days"),
        ({"field": "status", "op": "eq", "value": "deleted"}, "value", "Unknown value 'deleted'"),
        ({"field": "tags", "op": "has_any", "value": []}, "value", "Choose at least one value."),
        ({"field": "list", "op": "in", "value": [True]}, "value", "Choose a list."),
        ({"field": "engagement", "op": "opened", "value": 2**63}, "value", "Choose a campaign."),
    ],
)
def test_each_mistake_is_named_by_its_path(condition, path, message):
    errors = errors_of({"operator": "AND", "conditions": [{"field": "email", "op": "is_set"}, condition]})
    assert list(errors) == [f"rules.conditions[1].{path}"]
    assert errors[f"rules.conditions[1].{path}"].startswith(message)


def test_group_mistakes_and_limits():
    assert errors_of([]) == {"rules": "Must be a group: an object with operator and conditions."}
    assert errors_of({"operator": "XOR", "conditions": []}) == {
        "rules.operator": "Unknown operator 'XOR': use AND or OR."
    }
    assert errors_of({"operator": "AND", "conditions": {}}) == {"rules.conditions": "Must be a list."}
    assert errors_of({"operator": "AND", "conditions": [], "sql": "1=1"}) == {"rules": "Unknown key 'sql' in a group."}
    assert errors_of({"conditions": ["email"]}) == {
        "rules.conditions[0]": "Must be a condition: an object with field, op and value."
    }

    deep: dict = {"operator": "AND", "conditions": []}
    for _ in range(MAX_DEPTH):
        deep = {"operator": "OR", "conditions": [deep]}
    assert list(errors_of(deep)) == ["rules" + ".conditions[0]" * MAX_DEPTH]

    many = [{"field": "email", "op": "is_set"}] * (MAX_CONDITIONS + 1)
    assert errors_of({"operator": "AND", "conditions": many}) == {
        "rules": f"A segment can have at most {MAX_CONDITIONS} conditions."
    }


def test_empty_groups_are_allowed():
    assert parse_rules({"operator": "AND", "conditions": []}) == Group("AND", ())
    assert parse_rules({}) == Group("AND", ())
