"""What /api/docs states beyond what Litestar derives from the types, so that a client generated
from it can check its input before sending it: each input field's limits (lengths, ranges, choices,
formats: `Rule.limits` in core/schemas.py), and that an input object takes no fields but its own
(the API names an unknown field in a 422)."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPI, OpenAPIType, Schema

from webapp.core import schemas

NUMBERS = {OpenAPIType.INTEGER, OpenAPIType.NUMBER}
# The types each keyword applies to: a limit is stated on the union member it concerns.
KEYWORD_TYPES = {
    "min_length": {OpenAPIType.STRING},
    "max_length": {OpenAPIType.STRING},
    "pattern": {OpenAPIType.STRING},
    "format": {OpenAPIType.STRING},
    "enum": {OpenAPIType.STRING},
    "minimum": NUMBERS,
    "maximum": NUMBERS,
    "min_items": {OpenAPIType.ARRAY},
    "max_items": {OpenAPIType.ARRAY},
    "items": {OpenAPIType.ARRAY},
    "schema_not": NUMBERS,
    "max_properties": {OpenAPIType.OBJECT},
    "property_names": {OpenAPIType.OBJECT},
    "additional_properties": {OpenAPIType.OBJECT},
}
NESTED = {"items", "additional_properties"}  # limits of the array's items, of the object's values


def state_input_limits(document: OpenAPI) -> None:
    components = document.components.schemas if document.components else {}
    for schema in _input_schemas():
        component = components.get(schema.__name__)
        if component is None or component.title != schema.__name__:
            continue  # not taken by the API
        component.additional_properties = False
        hints = typing.get_type_hints(schema, include_extras=True)
        for field in msgspec.structs.fields(schema):
            prop = (component.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                _state(prop, schemas.documented_limits(hints[field.name]))


def _input_schemas(base: type[schemas.Schema] = schemas.Schema) -> Iterator[type[schemas.Schema]]:
    for schema in base.__subclasses__():
        yield schema
        yield from _input_schemas(schema)


def _state(schema: Schema, limits: Mapping[str, Any]) -> None:
    members = [m for m in schema.one_of or [schema] if isinstance(m, Schema)]
    for keyword, value in limits.items():
        for member in members:
            if member.type not in KEYWORD_TYPES[keyword]:
                continue
            if keyword in NESTED:
                if isinstance(nested := getattr(member, keyword), Schema):
                    _state(nested, value)
            else:
                setattr(member, keyword, value)
