"""The parser that turns the rules a user or a program sends into a typed tree.

The stored shape is seed 003's CustomerSegment.rules, with groups nesting:

    {"operator": "AND", "conditions": [
        {"field": "tags", "op": "has_any", "value": ["vip"]},
        {"operator": "OR", "conditions": [
            {"field": "last_opened", "op": "within_last", "value": 30},
            {"field": "custom.plan", "op": "eq", "value": "pro"}]}]}

Only the fields and operators of the catalogue exist. Anything else is a ValidationFailed naming
where it was found; nothing the user sends ever becomes SQL text (queries/conditions.py compiles the
tree). New kinds of contact data (lead scores, lifecycle stages) join by adding a FieldSpec to the
catalogue and a case here and there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from webapp.core.errors import ValidationFailed
from webapp.core.validation import TAG_COMMA, is_valid_id
from webapp.lists.schemas.rules.catalogue import NO_VALUE_OPS, ORDERING_OPS, FieldSpec, field_spec

VALUE_MISSING = "Enter a value."

MAX_DEPTH = 5
MAX_CONDITIONS = 100
MAX_TEXT = 500
MAX_ITEMS = 100
MAX_DAYS = 36_500  # "in the last N days": a hundred years
MAX_NUMBER = Decimal("1e15")  # beyond it a number is not a count or an amount but a typo
SHOWN_MAX = 60  # how much of an unknown name or value a message repeats


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # normalised: str, Decimal, int (days or an id), tuple of str/int, DateValue, None

    @property
    def spec(self) -> FieldSpec:
        spec = field_spec(self.field)
        if spec is None:  # the parser makes conditions of known fields only
            raise ValueError(f"Unknown field {self.field!r}.")
        return spec


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
        if self.absolute is not None:
            return self.absolute
        return now + (self.offset or timedelta())


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
    if not isinstance(name, str) or spec is None:
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
    if spec.kind in ("text", "custom") and op not in ORDERING_OPS:
        return _text_value(raw)
    if spec.kind == "custom":  # ordering: numbers compare as numbers, anything else as text
        number = _number_or_none(raw)
        return number if number is not None else _text_value(raw)
    if spec.kind == "number":
        number = _number_or_none(raw)
        if number is None:
            raise ValueError("Enter a number.")
        return number
    if spec.kind == "date":
        return _days(raw) if op in ("within_last", "not_within_last") else _date(raw)
    if spec.kind == "array":
        items = _items(raw)
        if any(isinstance(x, str) and "," in x for x in items):
            raise ValueError(TAG_COMMA)  # no tag holds one, and the builder's box would split it at the next save
        return tuple(dict.fromkeys(_text_value(x).lower() for x in items))
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


def _text_value(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise ValueError(VALUE_MISSING)
    text = str(raw).strip()
    if not text:
        raise ValueError(VALUE_MISSING)
    if "\x00" in text:
        raise ValueError("The value contains a character that is not allowed (NUL).")
    if len(text) > MAX_TEXT:
        raise ValueError(f"Use at most {MAX_TEXT} characters.")
    return text


def _number_or_none(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < MAX_NUMBER else None


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
    if not isinstance(raw, int) or isinstance(raw, bool) or not is_valid_id(raw):
        raise ValueError(f"Choose {what}.")
    return raw


DAYS = re.compile(r"^\s*(\d{1,5})\s*d?\s*$")
RELATIVE = re.compile(r"^\s*([+-])\s*(\d{1,5})\s*([dwmy])\s*$")
UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
MAX_RELATIVE_DAYS = 365_000
MIN_YEAR, MAX_YEAR = 1000, 9000
DAY_TEXT_LENGTH = len("2026-01-31")  # a date without a time: the whole day
ENTER_DATE = "Enter a date (2026-01-31) or a relative time such as -90d."


def _days(raw: Any) -> int:
    match = DAYS.match(str(raw)) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if not match or not 0 < int(match[1]) <= MAX_DAYS:
        raise ValueError("Enter a number of days, e.g. 30.")
    return int(match[1])


def _date(raw: Any) -> DateValue:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(ENTER_DATE)
    text = raw.strip()
    relative = RELATIVE.match(text)
    if relative:
        days = int(relative[2]) * UNIT_DAYS[relative[3]]
        if days > MAX_RELATIVE_DAYS:  # beyond Python's datetime range once added to now
            raise ValueError("Use a relative time of at most 1000 years.")
        return DateValue(offset=timedelta(days=days if relative[1] == "+" else -days))
    try:
        if len(text) == DAY_TEXT_LENGTH:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(ENTER_DATE) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:  # "the day after 9999-12-31" does not exist
        raise ValueError(f"Enter a date between the years {MIN_YEAR} and {MAX_YEAR}.")
    return DateValue(
        absolute=moment if moment.tzinfo else moment.replace(tzinfo=UTC), is_day=len(text) == DAY_TEXT_LENGTH
    )


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 3] + "...'"
