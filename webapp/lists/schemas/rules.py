"""Segment rules: the catalogue of fields and operators, and the parser that turns the JSON a user
or a program sends into a typed tree.

The stored shape is seed 003's CustomerSegment.rules, with groups nesting:

    {"operator": "AND", "conditions": [
        {"field": "tags", "op": "has_any", "value": ["vip"]},
        {"operator": "OR", "conditions": [
            {"field": "last_opened", "op": "within_last", "value": 30},
            {"field": "custom.plan", "op": "eq", "value": "pro"}]}]}

Only the fields and operators below exist. Anything else is a ValidationFailed naming where it was
found; nothing the user sends ever becomes SQL text (see segments.py for the compiler). New kinds of
contact data (lead scores, lifecycle stages) join by adding a FieldSpec here and a case there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from webapp.contacts.models import ContactStatus
from webapp.core.errors import ValidationFailed
from webapp.core.validation import CUSTOM_FIELD_NAME

MAX_DEPTH = 5
MAX_CONDITIONS = 100
MAX_TEXT = 500
MAX_ITEMS = 100

TEXT_OPS = ("eq", "neq", "contains", "not_contains", "starts_with", "is_set", "is_not_set")
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte")
DATE_OPS = ("gt", "gte", "lt", "lte", "within_last", "not_within_last", "is_set", "is_not_set")
ARRAY_OPS = ("has_any", "has_all", "has_none")
CHOICE_OPS = ("eq", "neq", "in", "not_in")
CUSTOM_OPS = ("eq", "neq", "contains", "gt", "gte", "lt", "lte", "is_set", "is_not_set")
LIST_OPS = ("in", "not_in")
ENGAGEMENT_OPS = (
    "opened",
    "not_opened",
    "clicked",
    "not_clicked",
    "opened_within",
    "not_opened_within",
    "clicked_within",
    "not_clicked_within",
)

OP_LABELS = {
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "is_set": "is set",
    "is_not_set": "is empty",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "within_last": "in the last N days",
    "not_within_last": "not in the last N days",
    "has_any": "has any of",
    "has_all": "has all of",
    "has_none": "has none of",
    "in": "is one of",
    "not_in": "is none of",
    "opened": "opened campaign",
    "not_opened": "received but did not open campaign",
    "clicked": "clicked in campaign",
    "not_clicked": "received but did not click in campaign",
    "opened_within": "opened any campaign in the last N days",
    "not_opened_within": "opened no campaign in the last N days",
    "clicked_within": "clicked in any campaign in the last N days",
    "not_clicked_within": "clicked in no campaign in the last N days",
}
DATE_OP_LABELS = {"gt": "after", "gte": "on or after", "lt": "before", "lte": "on or before"}
NO_VALUE_OPS = frozenset({"is_set", "is_not_set"})


@dataclass(frozen=True)
class FieldSpec:
    label: str
    kind: str  # text, number, date, array, choice, custom, list, engagement
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()


FIELDS: dict[str, FieldSpec] = {
    "email": FieldSpec("Email", "text", TEXT_OPS),
    "first_name": FieldSpec("First name", "text", TEXT_OPS),
    "last_name": FieldSpec("Last name", "text", TEXT_OPS),
    "phone": FieldSpec("Phone", "text", TEXT_OPS),
    "company": FieldSpec("Company", "text", TEXT_OPS),
    "job_title": FieldSpec("Job title", "text", TEXT_OPS),
    "location": FieldSpec("Location", "text", TEXT_OPS),
    "language": FieldSpec("Language", "text", TEXT_OPS),
    "frequency": FieldSpec("Email frequency", "text", TEXT_OPS),
    "status": FieldSpec("Status", "choice", CHOICE_OPS, tuple(s.value for s in ContactStatus)),
    "tags": FieldSpec("Tags", "array", ARRAY_OPS),
    "topics": FieldSpec("Topics", "array", ARRAY_OPS),
    "emails_sent": FieldSpec("Emails sent", "number", NUMBER_OPS),
    "emails_opened": FieldSpec("Emails opened", "number", NUMBER_OPS),
    "emails_clicked": FieldSpec("Emails clicked", "number", NUMBER_OPS),
    "date_added": FieldSpec("Date added", "date", DATE_OPS),
    "last_updated": FieldSpec("Last updated", "date", DATE_OPS),
    "last_opened": FieldSpec("Last opened", "date", DATE_OPS),
    "last_clicked": FieldSpec("Last clicked", "date", DATE_OPS),
    "list": FieldSpec("List membership", "list", LIST_OPS),
    "engagement": FieldSpec("Engagement", "engagement", ENGAGEMENT_OPS),
}
CUSTOM_PREFIX = "custom."
CUSTOM_SPEC = FieldSpec("Custom field", "custom", CUSTOM_OPS)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # normalised: str, Decimal, int (days or an id), tuple of str/int, DateValue, None

    @property
    def spec(self) -> FieldSpec:
        return field_spec(self.field)  # type: ignore[return-value]


@dataclass(frozen=True)
class Group:
    operator: str  # "AND" or "OR"
    conditions: tuple[Condition | Group, ...]


@dataclass(frozen=True)
class DateValue:
    """An absolute instant, a whole day, or an offset from now ("-90d")."""

    absolute: datetime | None = None
    is_day: bool = False
    offset: timedelta | None = None

    def resolve(self, now: datetime) -> datetime:
        return self.absolute if self.absolute is not None else now + self.offset  # type: ignore[operator]


def field_spec(name: str) -> FieldSpec | None:
    if name.startswith(CUSTOM_PREFIX):
        return CUSTOM_SPEC if CUSTOM_FIELD_NAME.fullmatch(name[len(CUSTOM_PREFIX) :]) else None
    return FIELDS.get(name)


def op_label(spec: FieldSpec, op: str) -> str:
    return DATE_OP_LABELS.get(op, OP_LABELS[op]) if spec.kind == "date" else OP_LABELS[op]


EMPTY_RULES: dict[str, Any] = {"operator": "AND", "conditions": []}


def parse_rules(raw: Any) -> Group:
    """The typed tree for raw rules, or ValidationFailed naming every problem by its path."""
    errors: dict[str, str] = {}
    count = [0]
    group = _group(raw, "rules", 1, errors, count)
    if count[0] > MAX_CONDITIONS:
        errors.setdefault("rules", f"A segment can have at most {MAX_CONDITIONS} conditions.")
    if errors:
        raise ValidationFailed(errors)
    return group


def _group(raw: Any, path: str, depth: int, errors: dict[str, str], count: list[int]) -> Group:
    if not isinstance(raw, dict):
        errors[path] = "Must be a group: an object with operator and conditions."
        return Group("AND", ())
    if depth > MAX_DEPTH:
        errors[path] = f"Groups can nest at most {MAX_DEPTH} deep."
        return Group("AND", ())
    operator = raw.get("operator", "AND")
    if not isinstance(operator, str) or operator.upper() not in ("AND", "OR"):
        errors[f"{path}.operator"] = f"Unknown operator {_shown(operator)}: use AND or OR."
        operator = "AND"
    items = raw.get("conditions", [])
    if not isinstance(items, list):
        errors[f"{path}.conditions"] = "Must be a list."
        items = []
    extra = set(raw) - {"operator", "conditions"}
    if extra:
        errors[path] = f"Unknown key {_shown(sorted(extra)[0])} in a group."
    parsed: list[Condition | Group] = []
    for index, item in enumerate(items):
        item_path = f"{path}.conditions[{index}]"
        if isinstance(item, dict) and "conditions" in item:
            parsed.append(_group(item, item_path, depth + 1, errors, count))
        else:
            count[0] += 1
            condition = _condition(item, item_path, errors)
            if condition is not None:
                parsed.append(condition)
    return Group(operator.upper(), tuple(parsed))


def _condition(raw: Any, path: str, errors: dict[str, str]) -> Condition | None:
    if not isinstance(raw, dict):
        errors[path] = "Must be a condition: an object with field, op and value."
        return None
    name, op = raw.get("field"), raw.get("op")
    spec = field_spec(name) if isinstance(name, str) else None
    if spec is None:
        errors[f"{path}.field"] = f"Unknown field {_shown(name)}."
        return None
    if op not in spec.ops:
        errors[f"{path}.op"] = f"Unknown operator {_shown(op)} for {spec.label}: use one of {', '.join(spec.ops)}."
        return None
    try:
        value = None if op in NO_VALUE_OPS else _value(spec, op, raw.get("value"))
    except ValueError as exc:
        errors[f"{path}.value"] = str(exc)
        return None
    return Condition(name, op, value)


def _value(spec: FieldSpec, op: str, raw: Any) -> Any:
    if spec.kind in ("text", "custom") and op not in ("gt", "gte", "lt", "lte"):
        return _text(raw)
    if spec.kind == "custom":  # ordering: numbers compare as numbers, anything else as text
        number = _number_or_none(raw)
        return number if number is not None else _text(raw)
    if spec.kind == "number":
        number = _number_or_none(raw)
        if number is None:
            raise ValueError("Enter a number.")
        return number
    if spec.kind == "date":
        return _days(raw) if op in ("within_last", "not_within_last") else _date(raw)
    if spec.kind == "array":
        items = _items(raw)
        return tuple(dict.fromkeys(_text(x).lower() for x in items))
    if spec.kind == "choice":
        items = _items(raw) if op in ("in", "not_in") else [raw]
        for item in items:
            if item not in spec.choices:
                raise ValueError(f"Unknown value {_shown(item)}: use one of {', '.join(spec.choices)}.")
        return tuple(items) if op in ("in", "not_in") else items[0]
    if spec.kind == "list":
        return tuple(_id(x, "a list") for x in _items(raw))
    if spec.kind == "engagement":
        return _days(raw) if op.endswith("_within") else _id(raw, "a campaign")
    raise AssertionError(spec.kind)


def _text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise ValueError("Enter a value.")
    text = str(raw).strip()
    if not text:
        raise ValueError("Enter a value.")
    if len(text) > MAX_TEXT or "\x00" in text:
        raise ValueError(f"Use at most {MAX_TEXT} ordinary characters.")
    return text


def _number_or_none(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < Decimal("1e15") else None


def _items(raw: Any) -> list[Any]:
    items = [x.strip() for x in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not [x for x in items if x != ""]:
        raise ValueError("Choose at least one value.")
    if len(items) > MAX_ITEMS:
        raise ValueError(f"Use at most {MAX_ITEMS} values.")
    return [x for x in items if x != ""]


def _id(raw: Any, what: str) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**63:
        raise ValueError(f"Choose {what}.")
    return raw


DAYS = re.compile(r"^\s*(\d{1,5})\s*d?\s*$")
RELATIVE = re.compile(r"^\s*([+-])\s*(\d{1,5})\s*([dwmy])\s*$")
UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
MAX_RELATIVE_DAYS = 365_000
MIN_YEAR, MAX_YEAR = 1000, 9000


def _days(raw: Any) -> int:
    match = DAYS.match(str(raw)) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if not match or not 0 < int(match[1]) <= 36500:
        raise ValueError("Enter a number of days, e.g. 30.")
    return int(match[1])


def _date(raw: Any) -> DateValue:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("Enter a date (2026-01-31) or a relative time such as -90d.")
    text = raw.strip()
    relative = RELATIVE.match(text)
    if relative:
        days = int(relative[2]) * UNIT_DAYS[relative[3]]
        if days > MAX_RELATIVE_DAYS:  # beyond Python's datetime range once added to now
            raise ValueError("Use a relative time of at most 1000 years.")
        return DateValue(offset=timedelta(days=days if relative[1] == "+" else -days))
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Enter a date (2026-01-31) or a relative time such as -90d.") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:  # "the day after 9999-12-31" does not exist
        raise ValueError(f"Enter a date between the years {MIN_YEAR} and {MAX_YEAR}.")
    return DateValue(absolute=moment if moment.tzinfo else moment.replace(tzinfo=UTC), is_day=len(text) == 10)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "...'"
