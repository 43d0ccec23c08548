"""What every JSON API route shares: id and paging parameters, the one error body and its
documented responses, who made a thing, and the request body exactly as sent.

Request bodies are the features' input schemas (core/schemas.py): Litestar checks the JSON types
against them (a wrong type is a 400 naming the field) and /api/docs shows them; the services then
load the object as sent, so unknown fields are named (422) rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import Parameter
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition
from msgspec import UNSET, Struct, UnsetType

from webapp.core.access import Principal
from webapp.core.cursors import MAX_CURSOR_LENGTH
from webapp.core.validation import MAX_ID

Limit = Annotated[int, Parameter(ge=1, le=500, description="Items per page, 1 to 500.")]
Cursor = Annotated[str | None, Parameter(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page.")]


def id_parameter(description: str) -> Any:
    """A path parameter holding a row id: a number no row can have is a 400 naming it, not a 500."""
    # Stated again as integers: Litestar writes bounds as floats, and 2**63 - 1 as a float is past it.
    return Parameter(ge=1, le=MAX_ID, description=description, schema_extra={"minimum": 1, "maximum": MAX_ID})


def checked_cursor(cursor: str | None, is_cursor: Callable[[str], bool]) -> str | None:
    """The `cursor` parameter as sent, or a 400 naming it when it is not one this endpoint made
    (pages read such a cursor as the first page instead)."""
    if cursor and not is_cursor(cursor):
        raise ValidationException(
            "The request is not valid.",
            extra=[{"key": "cursor", "message": "Not a cursor from this list: pass next_cursor back as it came."}],
        )
    return cursor


class FieldError(Struct):
    field: str
    message: str


class ErrorOut(Struct, kw_only=True):
    """Every API error. existing_id comes with 409 for a duplicate email."""

    status_code: int
    detail: str
    errors: list[FieldError] | UnsetType = UNSET
    existing_id: int | UnsetType = UNSET


ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, a wrong type or a bad parameter; errors name the field.",
    401: "No API key, or the key is not valid.",
    403: "The key's role cannot do this (viewer keys only read).",
    404: "No such resource.",
    409: "Clashes with existing data, e.g. a duplicate email.",
    422: "Breaks a rule; errors name each field and the problem.",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """The documented error responses of a handler: 400, 401 and 403 always, plus `codes`."""
    return {
        code: ResponseSpec(ErrorOut, description=ERROR_DESCRIPTIONS[code], generate_examples=False)
        for code in sorted({400, 401, 403, *codes})
    }


async def sent_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The request's JSON object as sent. Litestar has already checked it against the request schema
    (and cached it); the services get every key, so they can name unknown fields."""
    body: dict[str, Any] = await request.json()
    return body


def creator(user: Principal) -> str:
    """How a thing's creator is recorded: the person, or the API key that made it."""
    return f"api:{user.name}" if user.via_api_key else user.name


class NumberUnionSchema(OpenAPISchemaPlugin):
    """Documents a union holding both int and float (a custom field's value) with one JSON number.
    Litestar documents unions with oneOf, and under oneOf an integer such as 12 matches both
    `integer` and `number`, so a client checking replies against /api/docs would refuse it."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        members = {inner.annotation for inner in field_definition.inner_types}
        return field_definition.is_union and not field_definition.is_optional and {int, float} <= members

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        members = [inner for inner in field_definition.inner_types if inner.annotation is not int]
        return Schema(one_of=[schema_creator.for_field_definition(inner) for inner in members])


def multipart_operation(body: Schema) -> type[Operation]:
    """An operation whose request body is `body` as multipart/form-data: for handlers that read an
    upload's form themselves, whose body Litestar cannot see."""

    @dataclass
    class MultipartOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=True, content={"multipart/form-data": OpenAPIMediaType(schema=body)}
            )

    return MultipartOperation
