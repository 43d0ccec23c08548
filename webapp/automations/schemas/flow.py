"""The flow of an automation: a list of steps, each `{"id", "type", ...params, "skip_if"}`, where a
condition step holds two more lists (`yes`, `no`). Loading checks every step by the schema of its
type and names each problem by its path, e.g. `steps.2.yes.0.template_id`.

Step ids are the steps' stable keys: kept across versions (an enrolment on a step keeps its place
when a new version is published), unique in the whole flow. A step sent without one gets one.

Steps (params):
- send_email {template_id, subject?, from_name?}: the email step (its executor is the mail part's).
- wait: {duration: {days, hours, minutes}} | {until_field, offset_days} | {weekdays, time, timezone?}.
  A weekday wait is in the contact's time zone (custom field `timezone`, an IANA name), else in the
  step's `timezone` (default UTC).
- condition {rules, yes, no}: segment rules (the segment builder's); yes/no are lists of steps.
- tag / untag {tags}; add_to_list / remove_from_list {list_id}; update_field {field, value} (a custom
  field); score {points}; webhook {endpoint_id} (a webhook endpoint an admin registered).
- goal {rules}: checked at every step; a contact who meets it completes the automation.
Any step may carry `skip_if` (segment rules): a contact it matches passes the step without its effect.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from webapp.core.errors import ValidationFailed
from webapp.core.schemas import Rule, Schema, Values, load, row_id, tag_list, text, whole_number
from webapp.core.validation import CUSTOM_FIELD_NAME, time_zones
from webapp.lists.schemas.rules import parse_rules
from webapp.templates.schemas import JINJA_SYNTAX

MAX_STEPS = 200  # in the whole flow, branches included
MAX_DEPTH = 5  # conditions inside conditions
STEP_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
STEP_ID_MESSAGE = "A step id is 1 to 40 letters, digits, - or _."
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_WAIT_DAYS = 3650
MAX_POINTS = 10_000
MAX_FIELD_VALUE = 2000
DATE_FIELDS = ("date_added", "last_opened", "last_clicked")  # contact columns; else custom.<name>
CUSTOM_PREFIX = "custom."

STEP_TYPES = (
    "send_email",
    "wait",
    "condition",
    "tag",
    "untag",
    "add_to_list",
    "remove_from_list",
    "update_field",
    "score",
    "webhook",
    "goal",
)
TYPE_MESSAGE = "Choose the step's type: " + ", ".join(STEP_TYPES) + "."
NO_TYPE_MESSAGE = "Choose what the step does."  # left blank: the form's menu names the types in words
RULES_FIELDS = ("skip_if", "rules")  # segment rule groups, parsed by the segment rules' parser


def _step_id(value: Any, label: str) -> str:
    if not isinstance(value, str) or not STEP_ID.fullmatch(value):
        raise ValueError(STEP_ID_MESSAGE)
    return value


def _rules(value: Any, label: str) -> Any:
    return value  # parsed by load_flow, which names the errors by their path


def _weekdays(value: Any, label: str) -> list[int]:
    if not isinstance(value, list) or not value or not all(isinstance(d, int) and 1 <= d <= 7 for d in value):
        raise ValueError("Choose one or more weekdays, 1 (Monday) to 7 (Sunday).")
    return sorted(set(value))


def _time(value: Any, label: str) -> str:
    if not isinstance(value, str) or not TIME.fullmatch(value.strip()):
        raise ValueError("Enter a time as HH:MM, e.g. 09:30.")
    return value.strip()


def _timezone(value: Any, label: str) -> str:
    if not isinstance(value, str) or value not in time_zones():
        raise ValueError("Enter a time zone by its IANA name, e.g. Europe/Paris.")
    return value


def date_field(value: Any, label: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if name in DATE_FIELDS or (
        name.startswith(CUSTOM_PREFIX) and CUSTOM_FIELD_NAME.fullmatch(name.removeprefix(CUSTOM_PREFIX))
    ):
        return name
    raise ValueError(f"Choose a date field: {', '.join(DATE_FIELDS)} or custom.<name> (a custom field holding a date).")


def _custom_field(value: Any, label: str) -> str:
    if not isinstance(value, str) or not CUSTOM_FIELD_NAME.fullmatch(value.strip()):
        raise ValueError("Name a custom field: letters, digits and underscores, starting with a letter.")
    return value.strip()


def _field_value(value: Any, label: str) -> Any:
    if isinstance(value, str) and (len(value) > MAX_FIELD_VALUE or "\x00" in value):
        raise ValueError(f"The value must be at most {MAX_FIELD_VALUE} characters, without NUL.")
    if value is not None and not isinstance(value, (str, int, float, bool)):
        raise ValueError("The value must be text, a number, true/false or null.")
    return value


def _non_zero(value: Any, label: str) -> int:
    if value == 0:
        raise ValueError("Give a number of points other than 0.")
    return int(value)


def _some_tags(value: Any, label: str) -> list[str]:
    if not value:
        raise ValueError("Enter at least one tag.")
    return list(value)


RulesGroup = Annotated[
    dict[str, Any] | None,
    Meta(title="Rules", description="Segment rules: {operator: AND|OR, conditions: [...]}."),
    Rule(_rules, converts=True),
]
StepList = Annotated[list[dict[str, Any]], Meta(title="Steps")]


class StepIn(Schema, kw_only=True):
    id: Annotated[str | UnsetType, Meta(title="Step id"), Rule(_step_id, converts=True)] = UNSET
    type: Annotated[str, Meta(title="Type")]
    skip_if: Annotated[RulesGroup | UnsetType, Meta(title="Skip if")] = UNSET


class SendEmailStep(StepIn, kw_only=True):
    template_id: Annotated[int, Meta(title="Template"), row_id("Choose the email's template by its id.")]
    subject: Annotated[str | UnsetType, Meta(title="Subject"), text(500), JINJA_SYNTAX] = UNSET
    from_name: Annotated[str | UnsetType, Meta(title="From name"), text(200)] = UNSET


class Duration(Schema, kw_only=True):
    days: Annotated[int | UnsetType, Meta(title="Days"), whole_number(0, MAX_WAIT_DAYS)] = UNSET
    hours: Annotated[int | UnsetType, Meta(title="Hours"), whole_number(0, 24 * MAX_WAIT_DAYS)] = UNSET
    minutes: Annotated[int | UnsetType, Meta(title="Minutes"), whole_number(0, 24 * 60 * MAX_WAIT_DAYS)] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if not any(values.values()):
            return {"days": "Wait at least a minute: give days, hours or minutes."}
        return {}


class WaitStep(StepIn, kw_only=True):
    duration: Annotated[Duration | UnsetType, Meta(title="Duration")] = UNSET
    until_field: Annotated[str | UnsetType, Meta(title="Date field"), Rule(date_field, converts=True)] = UNSET
    offset_days: Annotated[int | UnsetType, Meta(title="Offset in days"), whole_number(-3650, 3650)] = UNSET
    weekdays: Annotated[list[int] | UnsetType, Meta(title="Weekdays"), Rule(_weekdays, converts=True)] = UNSET
    time: Annotated[str | UnsetType, Meta(title="Time"), Rule(_time, converts=True)] = UNSET
    timezone: Annotated[str | UnsetType, Meta(title="Time zone"), Rule(_timezone, converts=True)] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        kinds = [k for k in ("duration", "until_field", "weekdays") if k in values]
        if len(kinds) != 1:
            return {"duration": "Wait for a duration, until a date field, or until weekdays at a time: one of them."}
        if "weekdays" in values and "time" not in values:
            return {"time": "Enter the time of day to wait for, e.g. 09:30."}
        return {}


class ConditionStep(StepIn, kw_only=True):
    rules_: RulesGroup = msgspec.field(default=None, name="rules")
    yes: StepList | UnsetType = UNSET  # loaded by load_flow, step by step
    no: StepList | UnsetType = UNSET


class TagStep(StepIn, kw_only=True):
    tags: Annotated[list[str] | str, Meta(title="Tags"), tag_list(), Rule(_some_tags)]


class ListStep(StepIn, kw_only=True):
    list_id: Annotated[int, Meta(title="List"), row_id("Choose the list by its id.")]


class UpdateFieldStep(StepIn, kw_only=True):
    field: Annotated[str, Meta(title="Field"), Rule(_custom_field, converts=True)]
    value: Annotated[str | int | float | bool | None, Meta(title="Value"), Rule(_field_value)] = None


class ScoreStep(StepIn, kw_only=True):
    points: Annotated[int, Meta(title="Points"), whole_number(-MAX_POINTS, MAX_POINTS), Rule(_non_zero)]


class WebhookStep(StepIn, kw_only=True):
    endpoint_id: Annotated[int, Meta(title="Webhook endpoint"), row_id("Choose the webhook endpoint by its id.")]


class GoalStep(StepIn, kw_only=True):
    rules_: RulesGroup = msgspec.field(default=None, name="rules")


SCHEMAS: dict[str, type[StepIn]] = {
    "send_email": SendEmailStep,
    "wait": WaitStep,
    "condition": ConditionStep,
    "tag": TagStep,
    "untag": TagStep,
    "add_to_list": ListStep,
    "remove_from_list": ListStep,
    "update_field": UpdateFieldStep,
    "score": ScoreStep,
    "webhook": WebhookStep,
    "goal": GoalStep,
}
BRANCHES = ("yes", "no")


def load_flow(raw: Any, path: str = "steps") -> list[Values]:
    """The flow as stored: every step checked by its type's schema, ids given where missing.
    Raises ValidationFailed naming every problem by its path."""
    errors: dict[str, str] = {}
    steps = _load_steps(raw, path, 1, errors)
    if not errors:
        errors = _flow_rules(steps, path)
    if errors:
        raise ValidationFailed(errors)
    return steps


def _load_steps(raw: Any, path: str, depth: int, errors: dict[str, str]) -> list[Values]:
    if not isinstance(raw, list):
        errors[path] = "Send the steps as a list."
        return []
    return [step for index, item in enumerate(raw) if (step := _load_step(item, f"{path}.{index}", depth, errors))]


def _load_step(raw: Any, path: str, depth: int, errors: dict[str, str]) -> Values | None:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not isinstance(kind, str) or kind not in SCHEMAS:
        errors[path if not isinstance(raw, dict) else f"{path}.type"] = NO_TYPE_MESSAGE if kind == "" else TYPE_MESSAGE
        return None
    try:
        step = load(SCHEMAS[kind], raw)
    except ValidationFailed as exc:
        errors |= {f"{path}.{name}": message for name, message in exc.errors.items()}
        return None
    for name in RULES_FIELDS:
        if step.get(name) is not None:
            try:
                parse_rules(step[name])
            except ValidationFailed as exc:
                errors |= {f"{path}.{name}{key.removeprefix('rules')}": m for key, m in exc.errors.items()}
    if kind in ("condition", "goal") and step.get("rules") is None:
        errors[f"{path}.rules"] = "Give the rules this step checks."
    elif kind in ("condition", "goal") and not step["rules"].get("conditions"):
        errors[f"{path}.rules"] = "Add at least one condition: with none, every contact matches."
    if kind == "condition":
        if depth >= MAX_DEPTH:
            errors[path] = f"Conditions can nest at most {MAX_DEPTH} deep."
            return None
        for branch in BRANCHES:
            step[branch] = _load_steps(raw.get(branch, []), f"{path}.{branch}", depth + 1, errors)
    step.setdefault("id", new_step_id())
    step.setdefault("skip_if", None)
    return step


def _flow_rules(steps: list[Values], path: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    count = 0
    for step_path, step in walk(steps, path):
        count += 1
        if step["id"] in seen:
            errors[f"{step_path}.id"] = f"Another step has the id {step['id']}."
        seen.add(step["id"])
    if count > MAX_STEPS:
        errors[path] = f"A flow has at most {MAX_STEPS} steps."
    return errors


def walk(steps: list[Values], path: str = "steps") -> Iterator[tuple[str, Values]]:
    """Every step of the flow with its path, branches included, in order."""
    for index, step in enumerate(steps):
        yield f"{path}.{index}", step
        for branch in BRANCHES:
            yield from walk(step.get(branch, []), f"{path}.{index}.{branch}")


def new_step_id() -> str:
    return "s" + secrets.token_hex(5)
