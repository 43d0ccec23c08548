"""The segment builder's form: a rule tree flattened into form fields named by path, and back.

The root group is path "0"; its children "0.0", "0.1", ...; a nested group's children "0.1.0" ...
    g-<path>-operator          AND / OR of a group
    c-<path>-field             a catalogue field (schemas/rules FIELDS) or "custom"
    c-<path>-key               the custom field's name (field "custom" only)
    c-<path>-op                the operator
    c-<path>-value             the value; repeated for several items (statuses, lists), comma text for tags
    c-<path>-input             which value input was shown (see value_input); a value typed into another
                               kind of input (before the field or operator changed) is dropped
Children are ordered by their last index, gaps allowed, and renumbered 0, 1, 2 ... in the rules, so
a row's path in a re-rendered builder is its position in the rules (see rule_view.row_errors).

parse_form() is the only way back to rules JSON; buttons name an action that it applies on the way:
"add-condition:<group path>", "add-group:<group path>", "remove:<path>"; focus_after() names the
control a person goes on with after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from webapp.lists.schemas.rules import CUSTOM_PREFIX, CUSTOM_SPEC, FIELDS, NO_VALUE_OPS, FieldSpec, field_spec

ROOT = "0"
CUSTOM = "custom"
KEY = re.compile(r"^([cg])-(\d{1,3}(?:\.\d{1,3}){0,7})-(operator|field|key|op|value|input)$")
MAX_NODES = 300  # the rules allow 100 conditions; anything beyond this is not a form we made
INTEGER = re.compile(r"^-?\d{1,15}$")
DECIMAL = re.compile(r"^-?\d{0,15}\.\d{1,10}$")
ID = re.compile(r"^\d{1,18}$")
NEW_CONDITION_FIELD = "email"


def spec_for(field: str) -> FieldSpec | None:
    """A field's catalogue entry; a custom field whose name is still missing or wrong already offers
    the custom operators (the parser names the problem)."""
    return field_spec(field) or (CUSTOM_SPEC if field.startswith(CUSTOM_PREFIX) else None)


def value_input(spec: FieldSpec | None, op: str) -> str:
    """The kind of value input a field and operator take."""
    if spec is None:
        return "text"
    if op in NO_VALUE_OPS:
        return "none"
    kind = spec.kind
    if kind == "number":
        return "number"
    if kind == "date":
        return "days" if op in ("within_last", "not_within_last") else "date"
    if kind == "array":
        return "tags"
    if kind == "choice":
        return "choices" if op in ("in", "not_in") else "choice"
    if kind == "list":
        return "lists"
    if kind == "engagement":
        return "days" if op.endswith("_within") else "campaign"
    return "text"  # text and custom fields


def new_condition() -> dict[str, Any]:
    spec = FIELDS[NEW_CONDITION_FIELD]
    return {"field": NEW_CONDITION_FIELD, "op": spec.ops[0], "value": ""}


def new_group(parent_operator: str) -> dict[str, Any]:
    """A nested group flips its parent's operator: under AND one usually wants an OR, and back."""
    return {"operator": "OR" if parent_operator != "OR" else "AND", "conditions": [new_condition()]}


def parse_form(data: Mapping[str, Any], action: str | None = None) -> dict[str, Any]:
    """The rules JSON for a posted builder form, with the button's action applied."""
    fields: dict[tuple[str, str], dict[str, Any]] = {}
    for name, raw in data.items():
        match = KEY.match(name) if isinstance(name, str) else None
        if match is None:
            continue
        kind, path, part = match.groups()
        if (kind, path) not in fields and len(fields) >= MAX_NODES:
            continue
        fields.setdefault((kind, path), {})[part] = raw
    groups = {path for kind, path in fields if kind == "g"} | {ROOT}
    conditions = {path for kind, path in fields if kind == "c"} - groups

    tree = _node_tree(groups, conditions, fields)
    if action:
        _apply(tree, action)
    return _emit(tree)


def _node_tree(groups: set[str], conditions: set[str], fields: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """Nested nodes {"path", "group", "children"} keeping only paths whose parents are groups."""
    nodes: dict[str, dict[str, Any]] = {}
    for path in sorted(groups | conditions, key=_sort_key):
        is_group = path in groups
        node = {
            "path": path,
            "group": is_group,
            "data": fields.get(("g" if is_group else "c", path), {}),
            "children": [],
        }
        if path == ROOT:
            nodes[path] = node
            continue
        parent = nodes.get(path.rsplit(".", 1)[0])
        if parent is not None and parent["group"]:
            parent["children"].append(node)
            nodes[path] = node
    return nodes[ROOT]


def _sort_key(path: str) -> tuple[int, ...]:
    return tuple(int(x) for x in path.split("."))


def _find(node: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(parent, node) for a path in the tree."""
    for child in node["children"]:
        if child["path"] is None:
            continue
        if child["path"] == path:
            return node, child
        if child["group"] and path.startswith(child["path"] + "."):
            return _find(child, path)
    return None, None


def _apply(root: dict[str, Any], action: str) -> None:
    verb, _, path = action.partition(":")
    if verb not in ("add-condition", "add-group", "remove"):
        return
    parent, node = (None, root) if path == ROOT else _find(root, path)
    if node is None:
        return
    if verb == "remove":
        if parent is not None:
            parent["children"].remove(node)
        return
    if not node["group"]:
        return
    operator = _operator(node["data"])
    node["children"].append(
        {
            "path": None,
            "group": verb == "add-group",
            "children": [],
            "new": new_group(operator) if verb == "add-group" else new_condition(),
        }
    )


def _operator(data: dict[str, Any]) -> str:
    raw = text_of(data.get("operator"))
    return raw.strip().upper() if raw.strip() else "AND"


def _emit(node: dict[str, Any]) -> dict[str, Any]:
    if "new" in node:
        new: dict[str, Any] = node["new"]
        return new
    if node["group"]:
        return {"operator": _operator(node["data"]), "conditions": [_emit(child) for child in node["children"]]}
    return _condition(node["data"])


def _condition(data: dict[str, Any]) -> dict[str, Any]:
    field = text_of(data.get("field")).strip()
    if field == CUSTOM:
        field = CUSTOM_PREFIX + text_of(data.get("key")).strip()
    spec = spec_for(field)
    op = text_of(data.get("op")).strip()
    if spec is not None and op not in spec.ops:
        op = spec.ops[0]  # the field changed: its operators are different
    condition: dict[str, Any] = {"field": field, "op": op}
    shown = value_input(spec, op)
    if shown == "none":
        return condition
    posted = text_of(data.get("input"))
    raw = data.get("value") if not posted or posted == shown else None
    condition["value"] = _value(shown, raw)
    return condition


def _value(shown: str, raw: Any) -> Any:
    items = [x for x in (raw if isinstance(raw, list) else [raw]) if isinstance(x, str)]
    if shown in ("choices", "lists"):
        chosen = [x.strip() for x in items if x.strip()]
        return [int(x) if shown == "lists" and ID.match(x) else x for x in chosen]
    if shown == "tags":
        return [t.strip() for t in ",".join(items).split(",") if t.strip()]
    text = items[0].strip() if items else ""
    if shown == "number":
        if INTEGER.match(text):
            return int(text)
        return float(text) if DECIMAL.match(text) else text
    if shown in ("days", "campaign"):
        return int(text) if ID.match(text) else text
    return text


def focus_after(action: str, rules: dict[str, Any]) -> str:
    """The id of the control to go on with after a builder button, in the rules it produced: a new
    row's first control; after a removal, the row that moved into its place, else the one before,
    else the group's "+ Condition". Empty for anything else (the rows keep their ids then)."""
    verb, _, path = action.partition(":")
    if verb in ("add-condition", "add-group"):
        children = _children(rules, path)
        return _first_control(f"{path}.{len(children) - 1}", children[-1]) if children else ""
    parent, _, index = path.rpartition(".")
    if verb != "remove" or not parent or not index.isdigit() or (siblings := _children(rules, parent)) is None:
        return ""
    if not siblings:
        return f"g-{parent}-add"
    at = min(int(index), len(siblings) - 1)
    return _first_control(f"{parent}.{at}", siblings[at])


def _children(rules: dict[str, Any], path: str) -> list[Any] | None:
    """The rows of the group at a path, or None if no group is there."""
    steps = path.split(".")
    node: Any = rules if steps[0] == ROOT else None
    for index in steps[1:]:
        rows = _rows(node)
        node = rows[int(index)] if rows is not None and index.isdigit() and int(index) < len(rows) else None
    return _rows(node)


def _rows(node: Any) -> list[Any] | None:
    rows = node.get("conditions") if isinstance(node, dict) else None
    return rows if isinstance(rows, list) else None


def _first_control(path: str, row: Any) -> str:
    return f"g-{path}-operator" if isinstance(row, dict) and "conditions" in row else f"c-{path}-field"


def text_of(raw: Any) -> str:
    """A value as text: the first of a form field's repeated values; anything but text is empty."""
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return raw if isinstance(raw, str) else ""


def encode_rules(rules: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The form fields a browser posts for these rules, as the builder renders them (for tests and
    for programs that drive the builder)."""
    fields: list[tuple[str, str]] = []
    _encode_group(rules, ROOT, fields)
    return fields


def _encode_group(group: Mapping[str, Any], path: str, fields: list[tuple[str, str]]) -> None:
    fields.append((f"g-{path}-operator", str(group.get("operator", "AND"))))
    for index, item in enumerate(group.get("conditions") or []):
        child = f"{path}.{index}"
        if isinstance(item, Mapping) and "conditions" in item:
            _encode_group(item, child, fields)
            continue
        field = str(item.get("field", ""))
        spec = spec_for(field)
        if field.startswith(CUSTOM_PREFIX):
            fields += [(f"c-{child}-field", CUSTOM), (f"c-{child}-key", field[len(CUSTOM_PREFIX) :])]
        else:
            fields.append((f"c-{child}-field", field))
        op = str(item.get("op", ""))
        shown = value_input(spec, op)
        fields += [(f"c-{child}-op", op), (f"c-{child}-input", shown)]
        value = item.get("value")
        if shown == "none" or value is None:
            continue
        if shown in ("choices", "lists"):
            fields += [(f"c-{child}-value", str(x)) for x in (value if isinstance(value, list) else [value])]
        else:
            fields.append((f"c-{child}-value", value_text(value)))


def value_text(value: Any) -> str:
    """A stored value as the text in a value input."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(x) for x in value)
    return str(value)
