"""The rules core/schemas.py offers for choices, whole numbers and patterns."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from msgspec import UNSET, Meta, UnsetType

from webapp.core.errors import ValidationFailed
from webapp.core.schemas import Schema, load, matches, one_of, text, whole_number


class Server(Schema, kw_only=True):
    mode: Annotated[str, Meta(title="Mode"), one_of(["tls", "none"], "Choose a mode: tls or none.")]
    port: Annotated[int | UnsetType, Meta(title="Port"), whole_number(1, 65535)] = UNSET
    host: Annotated[str | UnsetType, Meta(title="Host"), text(50), matches(re.compile(r"[a-z.]+"), "A host.")] = UNSET


def errors_of(schema: type[Schema], data: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        load(schema, data)
    return raised.value.errors


def test_choices_numbers_and_patterns_as_forms_send_them():
    assert load(Server, {"mode": "tls", "port": " 587 ", "host": " mail.example "}) == {
        "mode": "tls",
        "port": 587,
        "host": "mail.example",
    }
    assert load(Server, {"mode": "none", "port": 25, "host": ""}) == {"mode": "none", "port": 25, "host": ""}


def test_each_rule_names_its_problem():
    assert errors_of(Server, {"port": "70000", "host": "Bad Host"}) == {
        "mode": "Choose a mode: tls or none.",  # also when it is missing
        "port": "Port must be between 1 and 65,535.",
        "host": "A host.",
    }
    for not_a_number in ("lots", "1e3", "1.0", "", True, "9" * 13):
        assert errors_of(Server, {"mode": "tls", "port": not_a_number}) == {"port": "Port must be a whole number."}
    assert errors_of(Server, {"mode": ["tls"]}) == {"mode": "Choose a mode: tls or none."}
