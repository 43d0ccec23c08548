"""Builder rows from rules: the parser's error paths land on the rows they name, and rules read
as a sentence on a list's page."""

from __future__ import annotations

import pytest

from webapp.core.errors import ValidationFailed
from webapp.lists.schemas.rule_view import Names, build_view, describe, referenced_ids, row_errors
from webapp.lists.schemas.rules import CUSTOM_OPS, parse_rules

RULES = {
    "operator": "AND",
    "conditions": [
        {"field": "tags", "op": "has_any", "value": ["vip"]},
        {
            "operator": "OR",
            "conditions": [
                {"field": "emails_opened", "op": "gt", "value": "lots"},
                {"field": "custom.", "op": "eq", "value": "x"},
                {"field": "status", "op": "eq", "value": ""},
            ],
        },
        {"field": "date_added", "op": "gt", "value": "yesterday"},
    ],
}


def parser_errors(rules) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        parse_rules(rules)
    return failed.value.errors


def test_parser_paths_map_to_rows_and_parts():
    rows, others = row_errors(
        {
            "rules.conditions[1].conditions[0].value": "Enter a number.",
            "rules.conditions[2].op": "Unknown operator",
            "rules.operator": "Unknown operator 'XOR'",
            "rules": "A segment can have at most 100 conditions.",
            "rules.conditions[12]": "Must be a condition",
            "name": "Enter a name for the list.",
            "parent_list_id": "Choose the list",
        }
    )
    assert rows == {
        "0.1.0": {"value": "Enter a number."},
        "0.2": {"op": "Unknown operator"},
        "0": {"operator": "Unknown operator 'XOR'", "row": "A segment can have at most 100 conditions."},
        "0.12": {"row": "Must be a condition"},
    }
    assert others == {"name": "Enter a name for the list.", "parent_list_id": "Choose the list"}


def test_every_invalid_row_shows_its_own_message():
    rows, _ = row_errors(parser_errors(RULES))
    view = build_view(RULES, rows)
    messages = {row.path: row.error for row in view.rows()}
    assert messages == {
        "0": "",
        "0.0": "",
        "0.1": "",
        "0.1.0": "Enter a number.",
        "0.1.1": "Enter the custom field's name.",
        "0.1.2": "Unknown value '': use one of active, unsubscribed, bounced, complained, pending.",
        "0.2": "Enter a date (2026-01-31) or a relative time such as -90d.",
    }
    custom = view.items[1].items[1]
    assert (custom.field, custom.custom_key, custom.input) == ("custom", "", "text")
    assert [op for op, _ in custom.ops] == list(CUSTOM_OPS)  # offered before the name is typed


def test_a_bad_custom_field_name_is_explained():
    rules = {"operator": "AND", "conditions": [{"field": "custom.2fa; drop", "op": "eq", "value": "x"}]}
    rows, _ = row_errors(parser_errors(rules))
    row = build_view(rules, rows).items[0]
    assert row.error.startswith("A custom field name has letters, digits and _")
    assert row.custom_key == "2fa; drop"


def test_errors_for_rows_that_are_not_there_show_at_the_top():
    view = build_view({"operator": "AND", "conditions": []}, {"0.4": {"value": "Enter a value."}})
    assert view.error == "Enter a value."


def test_rows_know_their_inputs_and_operators():
    view = build_view(
        {
            "operator": "or",
            "conditions": [
                {"field": "status", "op": "in", "value": ["active", "pending"]},
                {"field": "last_opened", "op": "lt", "value": "-30d"},
            ],
        }
    )
    assert view.operator == "OR" and view.can_nest
    status, opened = view.items
    assert status.input == "choices" and status.chosen == {"active", "pending"}
    assert status.name("value") == "c-0.0-value"
    assert opened.input == "date" and opened.text == "-30d"
    assert ("lt", "before") in opened.ops and ("within_last", "in the last N days") in opened.ops


def test_groups_stop_offering_nesting_at_the_depth_limit():
    rules = {"operator": "AND", "conditions": []}
    inner = rules
    for _ in range(4):
        child = {"operator": "AND", "conditions": []}
        inner["conditions"].append(child)
        inner = child
    deepest = list(build_view(rules).rows())[-1]
    assert deepest.depth == 5 and not deepest.can_nest


def test_rules_in_words():
    rules = {
        "operator": "AND",
        "conditions": [
            {"field": "tags", "op": "has_any", "value": ["vip", "gold"]},
            {
                "operator": "OR",
                "conditions": [
                    {"field": "last_opened", "op": "within_last", "value": 30},
                    {"field": "engagement", "op": "clicked", "value": 5},
                    {"field": "list", "op": "in", "value": [2, 99]},
                ],
            },
            {"field": "date_added", "op": "lt", "value": "-2w"},
            {"field": "custom.plan", "op": "eq", "value": "pro"},
            {"field": "phone", "op": "is_not_set"},
            {"field": "engagement", "op": "not_opened_within", "value": 60},
        ],
    }
    names = Names(lists={2: "Customers"}, campaigns={5: "Spring <sale>"})
    assert describe(rules, names) == (
        "Tags has any of vip, gold and (Last opened in the last 30 days or clicked in campaign “Spring <sale>” "
        "or List membership is one of “Customers”, “#99”) and Date added before 2 weeks ago "
        "and plan (custom field) is “pro” and Phone is empty and opened no campaign in the last 60 days"
    )
    assert referenced_ids(rules) == ({2, 99}, {5})
    assert describe({"operator": "AND", "conditions": []}, Names()) == "all contacts"
    assert describe({"operator": "OR", "conditions": []}, Names()) == "no contacts"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("+99999y", "Use a relative time of at most 1000 years."),
        ("9999-12-31", "Enter a date between the years 1000 and 9000."),
        ("0001-01-01T00:00:00", "Enter a date between the years 1000 and 9000."),
    ],
)
def test_dates_beyond_what_can_be_computed_are_refused_on_their_row(value, message):
    """Once a 500: "the day after 9999-12-31" overflowed Python's datetime while compiling."""
    rules = {"operator": "AND", "conditions": [{"field": "last_opened", "op": "gt", "value": value}]}
    rows, _ = row_errors(parser_errors(rules))
    assert build_view(rules, rows).items[0].error == message
