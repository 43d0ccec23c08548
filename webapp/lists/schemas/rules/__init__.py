"""Segment rules: the catalogue of fields and operators (catalogue.py) and the parser that turns
the rules a user or a program sends into a typed tree (parser.py)."""

from webapp.lists.schemas.rules.catalogue import (
    CUSTOM_OPS,
    CUSTOM_PREFIX,
    CUSTOM_SPEC,
    FIELDS,
    NO_VALUE_OPS,
    ORDERING_OPS,
    FieldSpec,
    field_spec,
    op_label,
)
from webapp.lists.schemas.rules.parser import (
    EMPTY_RULES,
    MAX_CONDITIONS,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_TEXT,
    RELATIVE,
    Condition,
    DateValue,
    Group,
    parse_rules,
)

__all__ = [
    "CUSTOM_OPS",
    "CUSTOM_PREFIX",
    "CUSTOM_SPEC",
    "EMPTY_RULES",
    "FIELDS",
    "MAX_CONDITIONS",
    "MAX_DAYS",
    "MAX_DEPTH",
    "MAX_TEXT",
    "NO_VALUE_OPS",
    "ORDERING_OPS",
    "RELATIVE",
    "Condition",
    "DateValue",
    "FieldSpec",
    "Group",
    "field_spec",
    "op_label",
    "parse_rules",
]
