"""The automation forms read back: each step type's form gives the step the flow's schema loads
(and a stored step gives the form that posts it again), a wait reads only its chosen mode, blanks
are left out for the schema to name, and a flow's errors are split to the step in the form."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import pytest

from webapp.automations.pages.forms import (
    settings_from_form,
    step_errors,
    step_form_fields,
    step_from_form,
    trigger_from_form,
)
from webapp.automations.schemas.flow import load_flow

STEPS = [
    {"id": "a", "type": "send_email", "template_id": 3, "subject": "Hi"},
    {"id": "b", "type": "wait", "duration": {"days": 2, "hours": 3}},
    {"id": "c", "type": "wait", "until_field": "custom.birthday", "offset_days": -1},
    {"id": "d", "type": "wait", "weekdays": [1, 5], "time": "09:30", "timezone": "Europe/Paris"},
    {"id": "e", "type": "tag", "tags": ["vip", "gold"]},
    {"id": "f", "type": "remove_from_list", "list_id": 4},
    {"id": "g", "type": "update_field", "field": "plan", "value": "pro"},
    {"id": "h", "type": "score", "points": -5},
    {"id": "i", "type": "webhook", "endpoint_id": 2},
    {
        "id": "j",
        "type": "goal",
        "rules": {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["x"]}]},
    },
]


def posted(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    return parse_qs(urlencode(pairs), keep_blank_values=True)


@pytest.mark.parametrize("step", STEPS, ids=[s["type"] + "-" + s["id"] for s in STEPS])
def test_a_steps_form_posts_back_the_step_the_schema_loads(step):
    read = step_from_form(posted(step_form_fields(step)), step["type"], step["id"])
    (loaded,) = load_flow([read])
    assert loaded == {**step, "skip_if": None}


def test_a_wait_reads_only_the_mode_chosen_and_leaves_blanks_out():
    form = posted(
        [("wait_mode", "weekdays"), ("duration.days", "3"), ("weekdays", "2"), ("weekdays", "x"), ("time", "08:00"),
         ("timezone", "")]
    )  # fmt: skip
    assert step_from_form(form, "wait", "w") == {"id": "w", "type": "wait", "weekdays": [2], "time": "08:00"}
    empty = step_from_form(posted([("wait_mode", "duration"), ("duration.days", " ")]), "wait", "w")
    assert empty == {"id": "w", "type": "wait", "duration": {}}
    with pytest.raises(Exception, match="Wait at least a minute"):
        load_flow([empty])


def test_a_condition_reads_the_rules_builder_with_its_buttons_action():
    form = posted([("g-0-operator", "OR"), ("action", "add-condition:0")])
    step = step_from_form(form, "condition", "c")
    assert step["rules"]["operator"] == "OR" and len(step["rules"]["conditions"]) == 1


def test_a_trigger_keeps_its_kinds_parameters_only_and_settings_drop_days_unless_every_n_days():
    form = posted(
        [("name", "Hi"), ("trigger.kind", "link_clicked"), ("trigger.url", "https://x.example/a"),
         ("trigger.campaign_id", ""), ("trigger.tag", "stray"), ("reentry", "always"), ("reentry_days", "5")]
    )  # fmt: skip
    assert trigger_from_form(form) == {"kind": "link_clicked", "url": "https://x.example/a"}
    assert settings_from_form(form) == {"name": "Hi", "trigger": trigger_from_form(form), "reentry": "always"}
    assert trigger_from_form(posted([("trigger.kind", "nope"), ("trigger.tag", "x")])) == {"kind": "nope"}


def test_a_flows_errors_are_split_to_the_step_in_the_form_by_its_path():
    errors = {
        "steps.1.yes.0.template_id": "Choose a template.",
        "steps.1.yes.0.rules.conditions[0].value": "Enter a value.",
        "steps.1.yes.0": "Too deep.",
        "steps.1.yes.01.points": "Another step's.",
        "steps.2.time": "Another step's too.",
    }
    mine, others = step_errors(errors, "steps.1.yes.0")
    assert mine == {
        "template_id": "Choose a template.",
        "rules.conditions[0].value": "Enter a value.",
        "form": "Too deep.",
    }
    assert set(others) == {"steps.1.yes.01.points", "steps.2.time"}
