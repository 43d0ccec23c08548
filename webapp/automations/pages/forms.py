"""The automation forms as the browser posts them, and back: the trigger (`trigger.kind` and its
parameters, named as the service names their errors: `trigger.list_id`), re-entry, and one step of
the flow (its parameters by their own names: `template_id`, `duration.days`; a condition's or a
goal's rules, and a step's skip rules, as the segment builder's fields).

Every parameter of every kind is in the form (the page shows those of the kind chosen, by CSS, so
it works without JavaScript); only the chosen kind's are read back, and a blank one is left out,
so the schema names it as missing rather than as malformed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from webapp.automations.schemas.flow import SCHEMAS
from webapp.automations.schemas.trigger import TRIGGERS
from webapp.core.forms import FormFields, first
from webapp.lists.schemas.rule_form import encode_rules, parse_form

STEP_OWN = ("id", "type", "skip_if", "rules", "yes", "no")  # not parameters the step form shows
WAIT_MODES = ("duration", "until_field", "weekdays")
DURATION = ("days", "hours", "minutes")
RULE_TYPES = ("condition", "goal")


def _parameters(schema: type[msgspec.Struct], own: Iterable[str]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(schema) if f.encode_name not in own]


def trigger_parameters(kind: str) -> list[str]:
    return _parameters(TRIGGERS[kind], ("kind",)) if kind in TRIGGERS else []


def step_parameters(step_type: str) -> list[str]:
    return _parameters(SCHEMAS[step_type], STEP_OWN) if step_type in SCHEMAS else []


def _filled(form: FormFields, name: str) -> str | None:
    value = first(form, name).strip()
    return value or None


def trigger_from_form(form: FormFields) -> dict[str, Any]:
    """{"kind": ..., params} of the kind chosen; the flag `yearly` is there only when ticked."""
    kind = first(form, "trigger.kind")
    trigger: dict[str, Any] = {"kind": kind}
    for name in trigger_parameters(kind):
        if (value := _filled(form, f"trigger.{name}")) is not None:
            trigger[name] = value
    return trigger


def settings_from_form(form: FormFields) -> dict[str, Any]:
    """Name, trigger and re-entry as AutomationCreate / AutomationUpdate take them."""
    values: dict[str, Any] = {"name": first(form, "name"), "trigger": trigger_from_form(form)}
    if reentry := first(form, "reentry"):
        values["reentry"] = reentry
    if reentry == "every_n_days":  # left blank: said next to the field, not the stored number kept quietly
        values["reentry_days"] = first(form, "reentry_days")
    return values


def step_from_form(form: FormFields, step_type: str, step_id: str) -> dict[str, Any]:
    """One step as the flow holds it, from its form (its rules, for a condition or goal, from the
    segment builder's fields with the button's action applied). The step's skip rules are not in
    this form: the caller keeps them."""
    step: dict[str, Any] = {"id": step_id, "type": step_type}
    if step_type in RULE_TYPES:
        step["rules"] = parse_form(form, first(form, "action") or None)
        return step
    if step_type == "wait":
        return step | _wait(form)
    for name in step_parameters(step_type):
        if (value := _filled(form, name)) is not None:
            step[name] = value
    return step


def _wait(form: FormFields) -> dict[str, Any]:
    mode = first(form, "wait_mode")
    if mode == "until_field":
        wait: dict[str, Any] = {"until_field": first(form, "until_field").strip()}
        if (offset := _filled(form, "offset_days")) is not None:
            wait["offset_days"] = offset
        return wait
    if mode == "weekdays":
        days = [int(d) for d in form.get("weekdays", []) if d.isdigit() and len(d) == 1]
        wait = {"weekdays": days, "time": first(form, "time")}
        if (zone := _filled(form, "timezone")) is not None:
            wait["timezone"] = zone
        return wait
    return {"duration": {unit: value for unit in DURATION if (value := _filled(form, f"duration.{unit}")) is not None}}


@dataclass
class StepForm:
    """A step's form as drawn: the values of its fields (as text), and its rules for the builder."""

    type: str
    values: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, Any] | None = None

    @property
    def wait_mode(self) -> str:
        mode = self.values.get("wait_mode")
        return mode if mode in WAIT_MODES else "duration"


def step_form(step: dict[str, Any]) -> StepForm:
    """A stored (or just posted) step as its form's values."""
    step_type = str(step.get("type", ""))
    if step_type in RULE_TYPES:
        rules = step.get("rules")
        return StepForm(step_type, rules=rules if isinstance(rules, dict) else None)
    values: dict[str, Any] = {name: step[name] for name in step_parameters(step_type) if name in step}
    if step_type == "wait":
        mode = next((m for m in WAIT_MODES if m in step), "duration")
        values["wait_mode"] = mode
        duration = values.pop("duration", None)
        values |= {f"duration.{u}": v for u, v in (duration if isinstance(duration, dict) else {}).items()}
    if isinstance(values.get("tags"), list):
        values["tags"] = ", ".join(str(t) for t in values["tags"])
    return StepForm(step_type, values)


def step_form_fields(step: dict[str, Any]) -> list[tuple[str, str]]:
    """The fields a browser posts for a step's form (for tests and programs that drive the builder)."""
    form = step_form(step)
    if form.rules is not None:
        return encode_rules(form.rules)
    pairs: list[tuple[str, str]] = []
    for name, value in form.values.items():
        if isinstance(value, list):
            pairs += [(name, str(item)) for item in value]
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


def step_errors(errors: dict[str, str], path: str) -> tuple[dict[str, str], dict[str, str]]:
    """A flow's errors split into those of the step at `path` (by its field names: `template_id`,
    `duration.days`, `rules.conditions[0].value`) and the others."""
    mine: dict[str, str] = {}
    others: dict[str, str] = {}
    for key, message in errors.items():
        if key == path:
            mine["form"] = message
        elif key.startswith(path + "."):
            mine[key.removeprefix(path + ".")] = message
        else:
            others[key] = message
    return mine, others
