"""A list's one schema: what the list form, the segment builder and the API send, cleaned, with every
problem named by field, and what a list's type allows."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from webapp.core.errors import ValidationFailed
from webapp.core.schemas import Schema, load
from webapp.lists.schemas.lists import ListCreate, ListUpdate, PastedAddresses, type_rules

EMPTY = {"operator": "AND", "conditions": []}


def errors_of(schema: type[Schema], data: Any, *, partial: bool = False) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        load(schema, data, partial=partial)
    return raised.value.errors


def test_a_new_list_is_cleaned_and_keeps_only_what_was_sent():
    values = load(ListCreate, {"name": "  News ", "tags": ["VIP ", "vip", "weekly"], "description": "a\r\nb"})
    assert values == {"name": "News", "tags": ["vip", "weekly"], "description": "a\nb"}


def test_every_problem_is_named_at_once():
    assert errors_of(ListCreate, {"name": "  ", "list_type": "weird", "colour": "red", "consent_text": "x" * 2001}) == {
        "name": "Enter a name for the list.",
        "list_type": "List type must be one of: static, dynamic, segmented.",
        "colour": "Unknown field.",
        "consent_text": "Consent text must be at most 2000 characters.",
    }
    assert errors_of(ListCreate, {}) == {"name": "Enter a name for the list."}
    assert load(ListUpdate, {"is_active": False}, partial=True) == {"is_active": False}


def test_rules_are_sent_as_rules_and_their_errors_keep_their_path():
    assert [f.encode_name for f in msgspec.structs.fields(ListUpdate) if f.name == "segment_rules"] == ["rules"]
    assert load(ListCreate, {"name": "Smart", "list_type": "dynamic", "rules": EMPTY})["rules"] == EMPTY
    broken = {"operator": "AND", "conditions": [{"field": "emails_opened", "op": "gt", "value": "lots"}]}
    assert errors_of(ListUpdate, {"rules": broken}, partial=True) == {"rules.conditions[0].value": "Enter a number."}
    assert errors_of(ListUpdate, {"parent_list_id": 2**70}, partial=True) == {
        "parent_list_id": "Choose the list this segment is a subset of."
    }


def test_what_a_type_allows():
    assert errors_of(ListCreate, {"name": "Plain", "rules": EMPTY, "parent_list_id": 3}) == {
        "rules": "Only dynamic and segmented lists have rules and a parent list.",
        "parent_list_id": "Only dynamic and segmented lists have rules and a parent list.",
    }
    assert set(errors_of(ListCreate, {"name": "Smart", "list_type": "dynamic", "parent_list_id": 3})) == {
        "parent_list_id",
        "rules",  # a dynamic list without rules would match every contact
    }
    assert errors_of(ListCreate, {"name": "Smart", "list_type": "segmented", "is_public": True}) == {
        "is_public": "Only static lists can be public: the members of segmented lists come from their rules."
    }
    # An update is checked against the type the list has (the service passes the stored one).
    assert type_rules("static", {"is_public": True, "rules": None}) == {}
    assert set(type_rules("dynamic", {"is_public": True})) == {"is_public"}


def test_a_paste_needs_some_text():
    assert load(PastedAddresses, {"addresses": "a@example.com"}) == {"addresses": "a@example.com"}
    for pasted in ("  \n ", ["a@example.com"], None):
        assert errors_of(PastedAddresses, {"addresses": pasted}) == {"addresses": "Paste at least one email address."}
