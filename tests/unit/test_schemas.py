"""One schema per input: load() applies a schema's types and rules to a form's or an API's mapping
and names every problem at once, by field."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import pytest
from msgspec import UNSET, Meta, UnsetType

from webapp.contacts.schemas import ContactUpdate
from webapp.core.errors import ValidationFailed
from webapp.core.schemas import Schema, email_address, flag, load, row_id, tag_list, text, text_fields


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Limits(Schema, kw_only=True):
    per_hour: Annotated[int | UnsetType | None, Meta(title="Per hour")] = UNSET
    track: Annotated[bool | UnsetType, Meta(title="Track opens")] = UNSET


class Thing(Schema, kw_only=True):
    name: Annotated[str, Meta(title="Name"), text(20, blank="Give it a name.")]
    email: Annotated[str | UnsetType, Meta(title="Email"), email_address()] = UNSET
    notes: Annotated[str | UnsetType | None, Meta(title="Notes"), text(50, multiline=True)] = UNSET
    tags: Annotated[list[str] | UnsetType, Meta(title="Tags"), tag_list()] = UNSET
    colour: Annotated[Colour | UnsetType, Meta(title="Colour")] = UNSET
    port: Annotated[int | UnsetType, Meta(title="Port")] = UNSET
    public: Annotated[bool | UnsetType, Meta(title="Public"), flag()] = UNSET
    parent_id: Annotated[int | UnsetType | None, Meta(title="Parent"), row_id("Choose a parent.")] = UNSET
    limits: Annotated[Limits | UnsetType, Meta(title="Limits")] = UNSET
    steps: Annotated[list[Limits] | UnsetType, Meta(title="Steps")] = UNSET

    @classmethod
    def rules(cls, values: dict[str, Any]) -> dict[str, str]:
        if values.get("public") and not values.get("email"):
            return {"email": "A public thing needs an address."}
        return {}


def errors_of(data: Any, schema: type[Schema] = Thing) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        load(schema, data)
    return raised.value.errors


def test_clean_values_come_back_with_only_the_fields_sent():
    values = load(Thing, {"name": "  Box ", "email": "A@Example.COM", "tags": ["Big ", "big", "red"], "colour": "red"})
    assert values == {"name": "Box", "email": "A@example.com", "tags": ["big", "red"], "colour": "red"}
    assert type(values["colour"]) is str  # enums come back as their plain value


def test_every_problem_is_named_at_once():
    errors = errors_of({"email": "nope", "notes": "x" * 51, "colour": "green", "port": "http", "extra": 1})
    assert errors == {
        "name": "Give it a name.",
        "email": errors["email"],
        "notes": "Notes must be at most 50 characters.",
        "colour": "Colour must be one of: red, blue.",
        "port": "Port must be a whole number.",
        "extra": "Unknown field.",
    }
    assert "@" in errors["email"]


def test_form_strings_are_converted_and_rules_see_blank_and_none():
    values = load(Thing, {"name": "n", "port": "587", "public": "on", "email": "a@b.co", "notes": None})
    assert values == {"name": "n", "port": 587, "public": True, "email": "a@b.co", "notes": ""}
    assert errors_of({"name": "   "}) == {"name": "Give it a name."}
    assert load(Thing, {"name": "n", "notes": "a\r\nb"})["notes"] == "a\nb"


def test_nested_schemas_name_their_fields_with_the_parent():
    assert load(Thing, {"name": "n", "limits": {"per_hour": "5", "track": True}})["limits"] == {
        "per_hour": 5,
        "track": True,
    }
    assert errors_of({"name": "n", "limits": {"per_hour": "many", "colour": 1}}) == {
        "limits.per_hour": "Per hour must be a whole number.",
        "limits.colour": "Unknown field.",
    }
    assert errors_of({"name": "n", "limits": "fast"}) == {"limits": "Send an object of field names and values."}


def test_lists_of_schemas_name_each_item_by_its_place():
    assert load(Thing, {"name": "n", "steps": [{"per_hour": "5"}, {"track": False}]})["steps"] == [
        {"per_hour": 5},
        {"track": False},
    ]
    assert errors_of({"name": "n", "steps": [{"per_hour": 1}, {"per_hour": "many"}, {"colour": 1}]}) == {
        "steps.1.per_hour": "Per hour must be a whole number.",
        "steps.2.colour": "Unknown field.",
    }
    assert errors_of({"name": "n", "steps": {"per_hour": 1}}) == {"steps": "Steps must be a list."}
    assert errors_of({"name": "n", "steps": ["fast"]}) == {"steps.0": "Send an object of field names and values."}


def test_cross_field_rules_run_once_each_field_passed():
    assert errors_of({"name": "n", "public": True}) == {"email": "A public thing needs an address."}
    assert "email" not in errors_of({"name": "", "public": True})  # fields first


def test_ids_and_bodies_that_are_not_objects():
    assert errors_of({"name": "n", "parent_id": 2**70}) == {"parent_id": "Choose a parent."}
    assert load(Thing, {"name": "n", "parent_id": None}) == {"name": "n", "parent_id": None}
    assert errors_of(["not", "an", "object"]) == {"body": "Send an object of field names and values."}


def test_text_fields_lists_labels_and_limits():
    assert text_fields(Thing) == {"name": ("Name", 20), "notes": ("Notes", 50)}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("größe", "'größe' is not a valid field name: use the letters a-z and A-Z without accents, digits and"),
        ("1st", "'1st' is not a valid field name"),
        ("p" * 65, f"'{'p' * 20}…' is too long for a field name: at most 64 characters."),
    ],
)
def test_a_custom_field_name_is_refused_with_what_is_wrong_with_it(name, message):
    with pytest.raises(ValidationFailed) as exc:
        load(ContactUpdate, {"custom_fields": {name: "x"}}, partial=True)
    assert exc.value.errors["custom_fields"].startswith(message)
    load(ContactUpdate, {"custom_fields": {"p" * 64: "x", "shoe_size": 42}}, partial=True)
