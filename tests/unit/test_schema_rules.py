"""The rules core/schemas.py offers for choices, whole numbers and patterns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest
from msgspec import UNSET, Meta, UnsetType

from webapp.core.errors import ValidationFailed
from webapp.core.schemas import Schema, load, matches, moment, one_of, text, whole_number


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


def test_a_json_number_with_a_zero_fraction_is_a_whole_number():
    """JSON (and JSON Schema's `integer`) count 587.0 as 587; a client may well send it so."""
    assert load(Server, {"mode": "tls", "port": 587.0})["port"] == 587
    assert errors_of(Server, {"mode": "tls", "port": 587.5}) == {"port": "Port must be a whole number."}


class Happening(Schema, kw_only=True):
    at: Annotated[str, Meta(title="At"), moment()]


def test_a_moment_is_at_most_a_day_ahead():
    soon = datetime.now(UTC) + timedelta(hours=23)
    assert load(Happening, {"at": soon.isoformat()})["at"] == soon
    assert load(Happening, {"at": "2026-01-02T03:04:05"})["at"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    later = (datetime.now(UTC) + timedelta(hours=25)).isoformat()
    assert errors_of(Happening, {"at": later}) == {"at": "At must not be more than a day ahead of now."}


def test_a_moment_is_in_1970_or_later_however_it_is_written():
    assert load(Happening, {"at": "1970-01-01T00:00:00Z"})["at"] == datetime(1970, 1, 1, tzinfo=UTC)
    for early in ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00", "1969-12-31T23:59:59Z", "1970-01-01T00:00+00:01"):
        assert errors_of(Happening, {"at": early}) == {"at": "At must be in 1970 or later."}, early
    assert errors_of(Happening, {"at": "0001-01-01T00:00:00+14:00"}) == {  # before the first moment UTC has
        "at": "At must be a date and time such as 2026-12-05T09:30:00Z."
    }


def test_each_rule_names_its_problem():
    assert errors_of(Server, {"port": "70000", "host": "Bad Host"}) == {
        "mode": "Choose a mode: tls or none.",  # also when it is missing
        "port": "Port must be between 1 and 65,535.",
        "host": "A host.",
    }
    for not_a_number in ("lots", "1e3", "1.0", "", True, "9-9"):
        assert errors_of(Server, {"mode": "tls", "port": not_a_number}) == {"port": "Port must be a whole number."}
    for too_long in ("9" * 13, "-" + "9" * 20, 10**30):  # a whole number all the same: say which ones fit
        assert errors_of(Server, {"mode": "tls", "port": too_long}) == {"port": "Port must be between 1 and 65,535."}
    assert errors_of(Server, {"mode": ["tls"]}) == {"mode": "Choose a mode: tls or none."}
