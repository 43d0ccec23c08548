"""Triggers and steps in words, as the list and the builder show them: records by name (or by id
once gone), offsets before and after, and a condition's rules as the segment builder words them."""

from __future__ import annotations

import pytest

from webapp.automations.pages.words import Lookup, describe_reentry, describe_skip, describe_step, describe_trigger

NAMES = Lookup(templates={1: "Welcome"}, lists={2: "Trial users", 3: "VIPs"}, campaigns={4: "Spring sale"})
VIP = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}


@pytest.mark.parametrize(
    ("trigger", "words"),
    [
        ({"kind": "list_joined", "list_id": 2}, "Joins “Trial users”"),
        ({"kind": "list_joined", "list_id": 9}, "Joins list #9"),
        ({"kind": "tag_removed", "tag": "trial"}, "Loses the tag “trial”"),
        ({"kind": "date_field", "field": "custom.renewal", "offset_days": -7}, "7 days before their renewal"),
        ({"kind": "date_field", "field": "date_added", "yearly": True}, "On their date added, every year"),
        ({"kind": "email_opened"}, "Opens an email of any campaign"),
        ({"kind": "not_opened", "days": 30, "campaign_id": 4}, "Has not opened “Spring sale” for 30 days"),
        ({"kind": "segment_entered", "segment_id": 3}, "Enters the segment “VIPs”"),
        ({"kind": "segment_entered", "segment_id": 8}, "Enters the segment #8"),
        ({"kind": "score_changed", "min_score": 50, "grade": "A"}, "Reaches a score of 50 or grade A"),
        ({"kind": "lifecycle_changed", "stage": "mql"}, "Becomes MQL"),
        ({"kind": "custom_event", "name": "purchase"}, "The event “purchase” is posted"),
        ({"kind": "manual"}, "Only when enrolled by hand or by the API"),
    ],
)
def test_triggers_in_words(trigger, words):
    assert describe_trigger(trigger, NAMES) == words


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ({"type": "send_email", "template_id": 1}, "Send “Welcome”"),
        ({"type": "wait", "duration": {"days": 1, "minutes": 30}}, "Wait 1 day, 30 minutes"),
        ({"type": "wait", "until_field": "custom.birthday", "offset_days": 1}, "Wait until 1 day after their birthday"),
        (
            {"type": "wait", "weekdays": [1, 3], "time": "09:00"},
            "Wait until Monday or Wednesday at 09:00, the contact's time",
        ),
        ({"type": "condition", "rules": VIP}, "If Tags has any of vip"),
        ({"type": "goal", "rules": VIP}, "Done when Tags has any of vip"),
        ({"type": "untag", "tags": ["a", "b"]}, "Remove the tags a, b"),
        ({"type": "add_to_list", "list_id": 3}, "Add to “VIPs”"),
        ({"type": "remove_from_list", "list_id": 8}, "Remove from list #8"),
        ({"type": "send_email", "template_id": 7, "subject": "Hi"}, "Send template #7 with the subject “Hi”"),
        ({"type": "score", "points": 1}, "Add 1 point"),
        ({"type": "webhook", "endpoint_id": 5}, "Send a webhook to endpoint #5"),
    ],
)
def test_steps_in_words(step, words):
    assert describe_step(step, NAMES) == words


def test_reentry_and_skip_rules_in_words():
    assert describe_reentry("every_n_days", 1).startswith("A contact may enter again 1 day after")
    assert describe_skip({"skip_if": VIP}, NAMES) == "Skipped for contacts where Tags has any of vip"
    assert describe_skip({"skip_if": None}, NAMES) == ""
