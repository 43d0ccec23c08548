"""A plain-Python reading of segment rules, written from the semantics in webapp/services/segments.py's
docstring, so the property tests can check the compiled SQL against an independent evaluation.
Covers the fields stored on the contact row (list membership and engagement are tested by example)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from webapp.lists.schemas.rules import CUSTOM_PREFIX, Condition, DateValue, Group

NUMERIC_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def matches(group: Group, contact: dict[str, Any], now: datetime) -> bool:
    results = (
        matches(item, contact, now) if isinstance(item, Group) else _condition(item, contact, now)
        for item in group.conditions
    )
    return all(results) if group.operator == "AND" else any(results)


def _condition(c: Condition, contact: dict[str, Any], now: datetime) -> bool:
    kind = c.spec.kind
    if kind == "custom":
        return _custom(c, contact["custom_fields"].get(c.field[len(CUSTOM_PREFIX) :]))
    value = contact[c.field]
    if kind == "text":
        return _text(value, c.op, c.value)
    if kind == "number":
        return _ordered(Decimal(value), c.op, c.value)
    if kind == "choice":
        return {
            "eq": value == c.value,
            "neq": value != c.value,
            "in": value in c.value,
            "not_in": value not in c.value,
        }[c.op]
    if kind == "array":
        have = set(value)
        return {
            "has_any": bool(have & set(c.value)),
            "has_all": set(c.value) <= have,
            "has_none": not have & set(c.value),
        }[c.op]
    if kind == "date":
        return _date(value, c.op, c.value, now)
    raise AssertionError(kind)


def _text(value: str, op: str, wanted: str | None) -> bool:
    if op == "is_set":
        return value != ""
    if op == "is_not_set":
        return value == ""
    value, wanted = value.lower(), (wanted or "").lower()
    return {
        "eq": value == wanted,
        "neq": value != wanted,
        "contains": wanted in value,
        "not_contains": wanted not in value,
        "starts_with": value.startswith(wanted),
    }[op]


def _as_text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _custom(c: Condition, raw: Any) -> bool:
    text = _as_text(raw)
    if c.op in ("gt", "gte", "lt", "lte"):
        if isinstance(c.value, Decimal):
            return (
                text is not None and NUMERIC_TEXT.fullmatch(text) is not None and _ordered(Decimal(text), c.op, c.value)
            )
        return text is not None and _ordered(text, c.op, c.value)
    return _text(text or "", c.op, c.value)


def _ordered(value: Any, op: str, wanted: Any) -> bool:
    return {
        "eq": value == wanted,
        "neq": value != wanted,
        "gt": value > wanted,
        "gte": value >= wanted,
        "lt": value < wanted,
        "lte": value <= wanted,
    }[op]


def _date(value: datetime | None, op: str, wanted: Any, now: datetime) -> bool:
    if op == "is_set":
        return value is not None
    if op == "is_not_set":
        return value is None
    if op in ("within_last", "not_within_last"):
        recent = value is not None and value >= now - timedelta(days=wanted)
        return recent if op == "within_last" else not recent
    assert isinstance(wanted, DateValue)
    if value is None:
        return False
    moment = wanted.resolve(now)
    if wanted.is_day:
        day = timedelta(days=1)
        return {"gt": value >= moment + day, "gte": value >= moment, "lt": value < moment, "lte": value < moment + day}[
            op
        ]
    return _ordered(value, op, moment)
