"""What the segment builder's templates show: the rule tree as rows with their inputs and errors,
errors from the rules parser mapped back to the rows they belong to, and rules in words."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from webapp.lists.schemas.rule_form import CUSTOM, ROOT, spec_for, text_of, value_input, value_text
from webapp.lists.schemas.rules import (
    CUSTOM_PREFIX,
    FIELDS,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_TEXT,
    RELATIVE,
    FieldSpec,
    field_spec,
    op_label,
)

UNITS = {"d": "day", "w": "week", "m": "month", "y": "year"}
# "rules.conditions[1].conditions[0].value" -> row 0.1.0, part "value"
ERROR_PATH = re.compile(r"^rules((?:\.conditions\[\d{1,4}\])*)(?:\.(operator|conditions|field|op|value))?$")
FIELD_GROUPS = (
    ("Contact", [name for name, spec in FIELDS.items() if spec.kind not in ("list", "engagement")]),
    ("Lists and engagement", ["list", "engagement"]),
)


def builder_context(static_lists: Any, campaigns: Any, custom_keys: Any) -> dict[str, Any]:
    """What the builder's macros (templates/lists/segments/_macros.html) draw the rows with: the
    static lists, sent campaigns and custom field names to pick from (lists.service.segments.
    builder_choices), the field catalogue and the value limits."""
    return {
        "static_lists": static_lists,
        "campaigns": campaigns,
        "custom_keys": custom_keys,
        "fields": FIELDS,
        "field_groups": FIELD_GROUPS,
        "value_limits": {"text": MAX_TEXT, "days": MAX_DAYS},
    }


@dataclass
class ConditionView:
    path: str
    field: str  # the field select's value: a catalogue name or "custom"
    custom_key: str
    op: str
    value: Any
    spec: FieldSpec | None
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    is_group = False

    def name(self, part: str) -> str:
        return f"c-{self.path}-{part}"

    @property
    def input(self) -> str:
        return value_input(self.spec, self.op)

    @property
    def ops(self) -> list[tuple[str, str]]:
        return [(op, op_label(self.spec, op)) for op in self.spec.ops] if self.spec else []

    @property
    def text(self) -> str:
        return value_text(self.value)

    @property
    def chosen(self) -> set[str]:
        items = self.value if isinstance(self.value, list) else str(self.value or "").split(",")
        return {str(x).strip() for x in items if str(x).strip()}

    @property
    def error(self) -> str:
        """One message for the row: the first problem, field before operator before value."""
        for part in ("row", "field", "op", "value"):
            if part in self.errors:
                return self.errors[part]
        return ""


@dataclass
class GroupView:
    path: str
    operator: str
    depth: int
    items: list[GroupView | ConditionView] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    is_group = True

    def name(self, part: str) -> str:
        return f"g-{self.path}-{part}"

    @property
    def can_nest(self) -> bool:
        return self.depth < MAX_DEPTH

    @property
    def error(self) -> str:
        return next(iter(self.errors.values()), "")

    def rows(self) -> Iterator[GroupView | ConditionView]:
        """This group and everything in it, depth first."""
        yield self
        for item in self.items:
            yield from item.rows() if isinstance(item, GroupView) else (item,)


def row_errors(errors: Mapping[str, str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Split a ValidationFailed's errors into those of builder rows (by row path and part) and the rest
    (name, parent_list_id ...)."""
    rows: dict[str, dict[str, str]] = {}
    others: dict[str, str] = {}
    for key, message in errors.items():
        match = ERROR_PATH.match(key)
        if match is None:
            others[key] = message
            continue
        path = ROOT + "".join("." + index for index in re.findall(r"\[(\d+)\]", match[1]))
        rows.setdefault(path, {}).setdefault(match[2] or "row", message)
    return rows, others


def blank_conditions(rules: Any, path: str = ROOT) -> set[str]:
    """The paths of the conditions whose value is not typed yet: their errors (a value, a custom
    field's name, a date) wait until the segment is saved, not the first change of their field."""
    blank: set[str] = set()
    items = rules.get("conditions") if isinstance(rules, Mapping) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        child = f"{path}.{index}"
        if isinstance(item, Mapping) and "conditions" in item:
            blank |= blank_conditions(item, child)
        elif isinstance(item, Mapping) and _is_blank(item.get("value")):
            blank.add(child)
    return blank


def _is_blank(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_blank(item) for item in value)
    return value is None or (isinstance(value, str) and not value.strip())


def build_view(rules: Any, errors: Mapping[str, dict[str, str]] | None = None) -> GroupView:
    """The builder's rows for rules as posted or stored, each with its errors."""
    pending = {path: dict(parts) for path, parts in (errors or {}).items()}
    root = _group(rules if isinstance(rules, Mapping) else {}, ROOT, 1, pending)
    for parts in pending.values():  # errors of rows that are not there: say them at the top
        for message in parts.values():
            root.errors.setdefault("row", message)
    return root


def _group(raw: Mapping[str, Any], path: str, depth: int, pending: dict[str, dict[str, str]]) -> GroupView:
    operator = raw.get("operator")
    view = GroupView(
        path, operator.upper() if isinstance(operator, str) else "AND", depth, errors=pending.pop(path, {})
    )
    items = raw.get("conditions")
    for index, item in enumerate(items if isinstance(items, list) else []):
        child = f"{path}.{index}"
        if isinstance(item, Mapping) and "conditions" in item:
            view.items.append(_group(item, child, depth + 1, pending))
        elif isinstance(item, Mapping):
            view.items.append(_condition(item, child, pending.pop(child, {})))
    return view


def _condition(raw: Mapping[str, Any], path: str, errors: dict[str, str]) -> ConditionView:
    name = text_of(raw.get("field"))
    spec = spec_for(name)
    custom = name.startswith(CUSTOM_PREFIX)
    if custom and "field" in errors:
        key = name[len(CUSTOM_PREFIX) :]
        errors["field"] = (
            "Enter the custom field's name."
            if not key
            else "A custom field name has letters, digits and _ and does not start with a digit."
        )
    op = text_of(raw.get("op"))
    return ConditionView(
        path,
        CUSTOM if custom else name,
        name[len(CUSTOM_PREFIX) :] if custom else "",
        op,
        raw.get("value"),
        spec,
        errors,
    )


# ---- rules in words -------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    lists: Mapping[int, str] = dataclasses.field(default_factory=dict)
    campaigns: Mapping[int, str] = dataclasses.field(default_factory=dict)


def referenced_ids(rules: Any) -> tuple[set[int], set[int]]:
    """The list ids and campaign ids that rules refer to (to look their names up)."""
    lists: set[int] = set()
    campaigns: set[int] = set()
    for item in _conditions(rules):
        value = item.get("value")
        if item.get("field") == "list" and isinstance(value, list):
            lists |= {x for x in value if isinstance(x, int) and not isinstance(x, bool)}
        elif (
            item.get("field") == "engagement" and isinstance(value, int) and not str(item.get("op")).endswith("_within")
        ):
            campaigns.add(value)
    return lists, campaigns


def _conditions(rules: Any) -> Iterator[Mapping[str, Any]]:
    for item in rules.get("conditions") or [] if isinstance(rules, Mapping) else []:
        if isinstance(item, Mapping) and "conditions" in item:
            yield from _conditions(item)
        elif isinstance(item, Mapping):
            yield item


def describe(rules: Any, names: Names, *, top: bool = True) -> str:
    """Stored rules as a sentence: 'Tags has any of vip and (Last opened in the last 30 days or ...)'."""
    if not isinstance(rules, Mapping):
        return ""
    operator = str(rules.get("operator", "AND")).upper()
    parts = [
        describe(item, names, top=False)
        if isinstance(item, Mapping) and "conditions" in item
        else _condition_words(item, names)
        for item in rules.get("conditions") or []
        if isinstance(item, Mapping)
    ]
    if not parts:
        return "all contacts" if operator == "AND" else "no contacts"
    sentence = f" {operator.lower()} ".join(parts)
    return sentence if top or len(parts) == 1 else f"({sentence})"


def _condition_words(item: Mapping[str, Any], names: Names) -> str:
    name = str(item.get("field", ""))
    spec = field_spec(name)
    op = str(item.get("op", ""))
    if spec is None or op not in spec.ops:
        return f"{name} {op}"
    label = f"{name[len(CUSTOM_PREFIX) :]} (custom field)" if spec.kind == "custom" else spec.label
    words = op_label(spec, op)
    value = item.get("value")
    if " N " in f" {words} ":
        return f"{'' if spec.kind == 'engagement' else label + ' '}{words.replace('N', str(value))}"
    if spec.kind == "engagement":
        return f"{words} “{names.campaigns.get(value, f'#{value}') if isinstance(value, int) else value}”"
    if value is None or op in ("is_set", "is_not_set"):
        return f"{label} {words}"
    if spec.kind == "list":
        shown = ", ".join(f"“{names.lists.get(x, f'#{x}')}”" for x in (value if isinstance(value, list) else [value]))
    elif spec.kind == "date":
        shown = _date_words(str(value))
    elif isinstance(value, list):
        shown = ", ".join(str(x) for x in value)
    else:
        shown = f"“{value}”" if spec.kind in ("text", "custom") else str(value)
    return f"{label} {words} {shown}"


def _date_words(value: str) -> str:
    relative = RELATIVE.match(value)
    if not relative:
        return value
    count, unit = int(relative[2]), UNITS[relative[3]]
    amount = f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{amount} ago" if relative[1] == "-" else f"{amount} from now"
