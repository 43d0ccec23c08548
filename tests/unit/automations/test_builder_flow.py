"""The builder's edits of a flow: a step goes into any slot (the top, after a step, the top of a
branch), is replaced keeping a condition's branches, is removed with its branches, and is found by
the path the flow's errors name."""

from __future__ import annotations

import pytest

from webapp.automations.pages.flow import Slot, depths, find, insert, path_of, remove, replace
from webapp.automations.schemas.flow import new_step_id

FLOW = [
    {"id": "welcome", "type": "send_email", "template_id": 1},
    {
        "id": "opened",
        "type": "condition",
        "rules": {"operator": "AND", "conditions": []},
        "yes": [{"id": "thanks", "type": "tag", "tags": ["engaged"]}],
        "no": [],
    },
    {"id": "later", "type": "wait", "duration": {"days": 3}},
]


def ids(steps):
    return [(step["id"], depth) for step, depth in depths(steps)]


def test_slots_are_read_from_their_keys_and_anything_else_is_none():
    assert Slot.parse("start") == Slot("start")
    assert Slot.parse("after:welcome") == Slot("after", "welcome")
    assert Slot.parse("no:opened").key == "no:opened"
    assert Slot.parse("no:opened").html_id == "add-no-opened"
    for raw in ("", "end", "after:", "after:a b", "maybe:opened", "yes:" + "x" * 41):
        assert Slot.parse(raw) is None


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        ("start", [("new", 0), ("welcome", 0), ("opened", 0), ("thanks", 1), ("later", 0)]),
        ("after:welcome", [("welcome", 0), ("new", 0), ("opened", 0), ("thanks", 1), ("later", 0)]),
        ("after:thanks", [("welcome", 0), ("opened", 0), ("thanks", 1), ("new", 1), ("later", 0)]),
        ("yes:opened", [("welcome", 0), ("opened", 0), ("new", 1), ("thanks", 1), ("later", 0)]),
        ("no:opened", [("welcome", 0), ("opened", 0), ("thanks", 1), ("new", 1), ("later", 0)]),
    ],
)
def test_a_step_goes_into_its_slot_and_the_flow_given_is_unchanged(slot, expected):
    changed = insert(FLOW, Slot.parse(slot), {"id": "new", "type": "score", "points": 5})
    assert ids(changed) == expected
    assert ids(FLOW) == [("welcome", 0), ("opened", 0), ("thanks", 1), ("later", 0)]


def test_the_new_step_in_the_no_branch_is_that_branch_and_not_the_other():
    changed = insert(FLOW, Slot("no", "opened"), {"id": "new", "type": "score", "points": 5})
    assert [s["id"] for s in changed[1]["no"]] == ["new"]
    assert [s["id"] for s in changed[1]["yes"]] == ["thanks"]


def test_a_slot_whose_step_is_gone_or_has_no_branches_is_refused():
    with pytest.raises(LookupError):
        insert(FLOW, Slot("after", "nope"), {"id": "new", "type": "score"})
    with pytest.raises(LookupError):
        insert(FLOW, Slot("yes", "welcome"), {"id": "new", "type": "score"})


def test_replacing_a_condition_keeps_its_branches():
    changed = replace(FLOW, "opened", {"id": "opened", "type": "condition", "rules": {"operator": "OR"}})
    assert changed[1]["rules"] == {"operator": "OR"}
    assert [s["id"] for s in changed[1]["yes"]] == ["thanks"]
    assert find(changed, "thanks") == {"id": "thanks", "type": "tag", "tags": ["engaged"]}


def test_removing_a_condition_removes_its_branches_and_a_branch_step_only_itself():
    assert ids(remove(FLOW, "opened")) == [("welcome", 0), ("later", 0)]
    assert ids(remove(FLOW, "thanks")) == [("welcome", 0), ("opened", 0), ("later", 0)]
    with pytest.raises(LookupError):
        remove(FLOW, "nope")


def test_a_steps_path_is_named_as_the_flows_errors_name_it():
    assert path_of(FLOW, "later") == "steps.2"
    assert path_of(FLOW, "thanks") == "steps.1.yes.0"
    assert path_of(FLOW, "nope") is None


def test_a_new_step_id_fits_a_slot():
    new = new_step_id()
    assert new not in {step["id"] for step, _ in depths(FLOW)}
    assert Slot.parse("after:" + new) is not None
