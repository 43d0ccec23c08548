"""Automations in words, for the list, the builder and the forms' choices: what starts one, when a
contact may enter again, and what each step does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webapp.lists.schemas.rule_view import Names, describe

TRIGGER_LABELS = {
    "list_joined": "Joins a list",
    "subscription_confirmed": "Confirms a subscription",
    "tag_added": "Gets a tag",
    "tag_removed": "Loses a tag",
    "date_field": "A date comes round (birthday, renewal)",
    "email_opened": "Opens an email",
    "link_clicked": "Clicks a link",
    "not_opened": "Has not opened for a number of days",
    "segment_entered": "Enters a segment",
    "score_changed": "Reaches a lead score or grade",
    "lifecycle_changed": "Reaches a lifecycle stage",
    "custom_event": "An event is posted to the API (e.g. purchase)",
    "manual": "Only when enrolled by hand or by the API",
}
STEP_LABELS = {
    "send_email": "Send an email",
    "wait": "Wait",
    "condition": "If / else",
    "tag": "Add tags",
    "untag": "Remove tags",
    "add_to_list": "Add to a list",
    "remove_from_list": "Remove from a list",
    "update_field": "Update a field",
    "score": "Change the lead score",
    "webhook": "Send a webhook",
    "goal": "Goal",
}
REENTRY_LABELS = {
    "once": "Once: a contact goes through it at most once",
    "always": "Every time it is triggered (after the previous run ended)",
    "every_n_days": "At most every N days",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DATE_FIELD_LABELS = {"date_added": "date added", "last_opened": "last opened", "last_clicked": "last clicked"}


@dataclass(frozen=True)
class Lookup:
    """Names of the records steps and triggers refer to by id."""

    templates: Mapping[int, str] = field(default_factory=dict)
    lists: Mapping[int, str] = field(default_factory=dict)
    campaigns: Mapping[int, str] = field(default_factory=dict)
    endpoints: Mapping[int, str] = field(default_factory=dict)

    def name(self, kind: str, value: Any, article: str = "") -> str:
        names: Mapping[int, str] = getattr(self, kind)
        found = names.get(value) if isinstance(value, int) else None
        return f"“{found}”" if found else f"{article}#{value}"

    @property
    def rules(self) -> Names:
        return Names(self.lists, self.campaigns)


def _plural(count: Any, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _date_field(name: Any) -> str:
    text = str(name or "")
    return DATE_FIELD_LABELS.get(text, text.removeprefix("custom.") if text.startswith("custom.") else text)


def describe_trigger(trigger: Mapping[str, Any], names: Lookup) -> str:
    kind = str(trigger.get("kind", ""))
    campaign = trigger.get("campaign_id")
    any_or_one = names.name("campaigns", campaign) if campaign else "any campaign"
    if kind in ("list_joined", "subscription_confirmed"):
        verb = "Joins" if kind == "list_joined" else "Confirms a subscription to"
        return f"{verb} {names.name('lists', trigger.get('list_id'), 'list ')}"
    if kind in ("tag_added", "tag_removed"):
        return f"{'Gets' if kind == 'tag_added' else 'Loses'} the tag “{trigger.get('tag', '')}”"
    if kind == "date_field":
        offset = int(trigger.get("offset_days") or 0)
        when = "on" if offset == 0 else f"{_plural(abs(offset), 'day')} {'before' if offset < 0 else 'after'}"
        yearly = ", every year" if trigger.get("yearly") else ""
        return f"{when.capitalize()} their {_date_field(trigger.get('field'))}{yearly}"
    if kind == "email_opened":
        return f"Opens an email of {any_or_one}"
    if kind == "link_clicked":
        link = f" to {trigger['url']}" if trigger.get("url") else ""
        return f"Clicks a link{link} in {any_or_one}"
    if kind == "not_opened":
        return f"Has not opened {any_or_one} for {_plural(trigger.get('days'), 'day')}"
    if kind == "segment_entered":
        return f"Enters the segment {names.name('lists', trigger.get('segment_id'))}"
    if kind == "score_changed":
        parts = [f"a score of {trigger['min_score']}" if trigger.get("min_score") is not None else ""]
        parts.append(f"grade {trigger['grade']}" if trigger.get("grade") else "")
        return "Reaches " + " or ".join(p for p in parts if p)
    if kind == "lifecycle_changed":
        stage = str(trigger.get("stage", ""))
        return f"Becomes {stage.upper() if stage in ('mql', 'sql') else stage}"
    if kind == "custom_event":
        return f"The event “{trigger.get('name', '')}” is posted"
    return TRIGGER_LABELS.get(kind, kind)


def describe_reentry(reentry: str, days: int) -> str:
    if reentry == "every_n_days":
        return f"A contact may enter again {_plural(days, 'day')} after they last entered, once their run ended."
    if reentry == "always":
        return "A contact enters again each time it is triggered, once their previous run ended."
    return "A contact goes through it once."


def describe_step(step: Mapping[str, Any], names: Lookup) -> str:
    kind = str(step.get("type", ""))
    if kind == "send_email":
        subject = f" with the subject “{step['subject']}”" if step.get("subject") else ""
        return f"Send {names.name('templates', step.get('template_id'), 'template ')}{subject}"
    if kind == "wait":
        return _wait_words(step)
    if kind in ("condition", "goal"):
        words = describe(step.get("rules"), names.rules)
        return f"If {words}" if kind == "condition" else f"Done when {words}"
    if kind in ("tag", "untag"):
        tags = ", ".join(str(t) for t in step.get("tags") or [])
        return f"{'Tag with' if kind == 'tag' else 'Remove the tags'} {tags}"
    if kind in ("add_to_list", "remove_from_list"):
        target = names.name("lists", step.get("list_id"), "list ")
        return f"Add to {target}" if kind == "add_to_list" else f"Remove from {target}"
    if kind == "update_field":
        return f"Set {step.get('field', '')} to “{step.get('value', '')}”"
    if kind == "score":
        points = int(step.get("points") or 0)
        return f"{'Add' if points >= 0 else 'Take away'} {_plural(abs(points), 'point')}"
    if kind == "webhook":
        return f"Send a webhook to {names.name('endpoints', step.get('endpoint_id'), 'endpoint ')}"
    return STEP_LABELS.get(kind, kind)


def _wait_words(step: Mapping[str, Any]) -> str:
    duration = step.get("duration")
    if isinstance(duration, Mapping):
        parts = [_plural(duration[unit], unit[:-1]) for unit in ("days", "hours", "minutes") if duration.get(unit)]
        return "Wait " + (", ".join(parts) or "0 minutes")
    if step.get("until_field"):
        offset = int(step.get("offset_days") or 0)
        shift = "" if offset == 0 else f" {_plural(abs(offset), 'day')} {'before' if offset < 0 else 'after'}"
        return f"Wait until{shift} their {_date_field(step['until_field'])}"
    days = [WEEKDAYS[d - 1] for d in step.get("weekdays") or [] if isinstance(d, int) and 1 <= d <= 7]
    zone = f" ({step['timezone']} unless the contact has a time zone)" if step.get("timezone") else ""
    return f"Wait until {' or '.join(days) or 'a weekday'} at {step.get('time', '')}, the contact's time{zone}"


def describe_skip(step: Mapping[str, Any], names: Lookup) -> str:
    rules = step.get("skip_if")
    return f"Skipped for contacts where {describe(rules, names.rules)}" if rules else ""
