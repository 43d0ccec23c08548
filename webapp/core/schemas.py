"""One schema per input: a msgspec Struct names an input's fields, their types and their rules, and
both doors use it. The JSON API declares it as the request body (Litestar checks the JSON types:
a wrong type is a 400 naming the field, and /api/docs shows the shape); forms and the API alike then
go through `load`, which applies the rules and reports every broken one at once, keyed by field,
as ValidationFailed (a 422 for the API, messages next to the fields for a form).

A field's rules ride on its annotation, after its type:

    name: Annotated[str, Meta(title="Name"), text(200, blank="Enter a name for the list.")]

`Meta(title=...)` is the label used in messages and in /api/docs. A field whose type is another
Schema is loaded the same way, its errors named `parent.child`; a list of them item by item, its
errors named `parent.<index>.child`. Rules that tie fields together go in the schema's `rules`
classmethod; checks that need the database stay in the service.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, get_args, get_origin
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct, UnsetType

from webapp.core.errors import ValidationFailed
from webapp.core.validation import (
    MAX_ID,
    NOT_SPECIAL_USE,
    TAG_MAX_LENGTH,
    bool_field,
    is_valid_id,
    normalize_email,
    normalize_tags,
    text_field,
)

Values = dict[str, Any]


class Schema(Struct, kw_only=True):
    """Base of every input schema. `load` returns the values that were sent, cleaned."""

    unknown_field_message: ClassVar[str] = "Unknown field."
    # The fields `rules` reads, if these alone must pass their own checks for it to run (its errors
    # then show beside those of the other fields); empty: every field must.
    rules_read: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        """Rules between fields, run once every field (or every one of rules_read) passed its own;
        errors by field name."""
        return {}


@dataclass(frozen=True)
class Rule:
    """A rule on one field, run after its type check: `clean(value, label)` returns the value to
    keep or raises ValueError with a message a person can act on."""

    clean: Callable[[Any, str], Any]
    missing: str = ""  # the message when a required field was not sent ("<label> is required." if empty)
    max_length: int | None = None  # for text: shown to people (form hints, import reports)
    converts: bool = False  # the rule itself turns what was sent into the type (e.g. a form's "on")
    # What /api/docs states about the value (core/api_document.py), as JSON Schema keywords named as
    # litestar.openapi.spec.Schema names them; a value within them passes `clean`, so a client can
    # check its input before sending it.
    limits: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)  # Annotated metadata must hash


NUL_FREE = r"^[^\x00]*$"
NOT_BLANK = r"^\s*[^\s\x00][^\x00]*$"  # something besides white space, and no NUL (text_field refuses it)
ONE_LINE = r"^[^\x00\r\n]*$"
ONE_LINE_NOT_BLANK = r"^[^\S\r\n]*[^\s\x00][^\x00\r\n]*$"
EMAIL_LIMITS = {"format": "email", "max_length": 254, "pattern": NOT_SPECIAL_USE}


def text(max_length: int, *, blank: str = "", multiline: bool = False) -> Rule:
    """Trimmed text of at most max_length characters, never NUL; `blank` makes it required. One
    line unless multiline (a line break in a subject or a sender's name has no place to go)."""

    def clean(value: Any, label: str) -> str:
        cleaned = text_field(value, label, max_length)
        if blank and not cleaned:
            raise ValueError(blank)
        if multiline:
            return cleaned.replace("\r\n", "\n")
        if "\n" in cleaned or "\r" in cleaned:
            raise ValueError(f"{label} must be on one line.")
        return cleaned

    patterns = (NOT_BLANK, NUL_FREE) if multiline else (ONE_LINE_NOT_BLANK, ONE_LINE)
    limits = {"min_length": 1, "pattern": patterns[0]} if blank else {"pattern": patterns[1]}
    return Rule(clean, missing=blank, max_length=max_length, limits={"max_length": max_length, **limits})


def email_address(missing: str = "Enter an email address.") -> Rule:
    return Rule(lambda value, label: normalize_email(value), missing=missing, limits=EMAIL_LIMITS)


def optional_email_address() -> Rule:
    """An email address, or blank (or null) for none, kept as ""."""
    return Rule(lambda value, label: normalize_email(value) if value and value.strip() else "", limits=EMAIL_LIMITS)


def tag_list() -> Rule:
    return Rule(
        lambda value, label: normalize_tags(value),
        # normalize_tags refuses commas, and more than MAX_TAGS once repeats are merged
        limits={"items": {"max_length": TAG_MAX_LENGTH, "pattern": r"^[^,]*$"}},
    )


def flag() -> Rule:
    """true/false, also as a form sends it (on, yes, 1)."""
    return Rule(bool_field, converts=True)


def row_id(message: str = "") -> Rule:
    """A row id (or None where the type allows it)."""

    def clean(value: Any, label: str) -> int | None:
        if value is None or is_valid_id(value):
            return value  # type: ignore[no-any-return]
        raise ValueError(message or f"{label} is not a valid id.")

    return Rule(clean, limits={"minimum": 1, "maximum": MAX_ID})


def one_of(choices: Sequence[str], message: str) -> Rule:
    """One of `choices` exactly (a form's select, an API's enum), else `message`, also when missing."""

    def clean(value: Any, label: str) -> str:
        if isinstance(value, str) and value in choices:
            return value
        raise ValueError(message)

    return Rule(clean, missing=message, converts=True, limits={"enum": list(choices)})


# Twelve digits are more than any range needs: a longer number is a slip of the keyboard, not a value.
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")
ALL_DIGITS = re.compile(r"-?[0-9]+")


def whole_number(lowest: int, highest: int) -> Rule:
    """A whole number from lowest to highest, also as a form sends it (" 587 ")."""

    def clean(value: Any, label: str) -> int:
        digits = value.strip() if isinstance(value, str) else value
        if isinstance(digits, float) and digits.is_integer():  # JSON's 366.0 is the number 366
            digits = int(digits)
        if isinstance(digits, bool) or not isinstance(digits, (int, str)) or not ALL_DIGITS.fullmatch(str(digits)):
            raise ValueError(f"{label} must be a whole number.")
        if not WHOLE_NUMBER.fullmatch(str(digits)) or not lowest <= int(digits) <= highest:
            raise ValueError(f"{label} must be between {lowest:,} and {highest:,}.")
        return int(digits)

    return Rule(clean, converts=True, limits={"minimum": lowest, "maximum": highest})


def matches(pattern: re.Pattern[str], message: str) -> Rule:
    """Text that is empty or matches `pattern` (put it after `text`, which trims and limits it)."""

    def clean(value: Any, label: str) -> Any:
        if value and not pattern.fullmatch(value):
            raise ValueError(message)
        return value

    return Rule(clean, limits={"pattern": f"^(?:{pattern.pattern})?$"})


MOMENT_AHEAD = timedelta(days=1)  # clocks differ by minutes; later than this is a mistake


EARLIEST_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)


def moment() -> Rule:
    """An ISO 8601 date and time of something that happened, so at most a day ahead of now;
    without a zone it is UTC."""

    def clean(value: Any, label: str) -> datetime:
        try:
            moment = datetime.fromisoformat(str(value).strip())
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment.astimezone(UTC)  # raises OverflowError for year 1 ahead of UTC
        except (ValueError, OverflowError):
            raise ValueError(f"{label} must be a date and time such as 2026-12-05T09:30:00Z.") from None
        if moment < EARLIEST_MOMENT:  # and its attribution window, counted back from it, stays a date
            raise ValueError(f"{label} must be in 1970 or later.")
        if moment > datetime.now(UTC) + MOMENT_AHEAD:
            raise ValueError(f"{label} must not be more than a day ahead of now.")
        return moment

    return Rule(clean, converts=True, limits={"format": "date-time"})


def json_object(max_bytes: int) -> Rule:
    """An object of names and values, at most max_bytes of JSON, storable in jsonb."""

    def clean(value: Any, label: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"{label} must be an object of names and values.")
        encoded = msgspec.json.encode(value)
        if len(encoded) > max_bytes:
            raise ValueError(f"{label} must be at most {max_bytes:,} bytes of JSON.")
        if b"\\u0000" in encoded:  # PostgreSQL's jsonb cannot hold NUL
            raise ValueError(f"{label} must not contain NUL characters.")
        return value

    return Rule(clean)


LINK_MESSAGE = "Enter the link as it is in the email, starting with http:// or https://."


def _http_link(value: Any, label: str) -> str:
    link: str = value  # after text(), which made it trimmed text; blank is no link
    if not link:
        return link
    try:
        parts = urlsplit(link)
    except ValueError:
        raise ValueError(LINK_MESSAGE) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in link):
        raise ValueError(LINK_MESSAGE)
    return link


# A tracked link, after text(): only http(s) links are tracked, so a rule on anything else never matches.
HTTP_LINK = Rule(_http_link)


def stated(**limits: Any) -> Rule:
    """No check of its own: states for /api/docs limits that the schema's `rules` check."""
    return Rule(lambda value, label: value, limits=limits)


def load(schema: type[Schema], data: Any, *, partial: bool = False) -> Values:
    """The fields of `data` that `schema` knows, cleaned. partial=True is for updates: missing
    required fields are fine. Raises ValidationFailed naming every problem."""
    return _load(schema, data, partial, prefix="")


def _load(schema: type[Schema], data: Any, partial: bool, prefix: str) -> Values:
    if not isinstance(data, Mapping):
        raise ValidationFailed({prefix.rstrip(".") or "body": "Send an object of field names and values."})
    errors: dict[str, str] = {}
    values: Values = {}
    fields = _fields(schema)
    for field, annotation in fields:
        # The name as sent: a field may be renamed with msgspec.field(name=...), e.g. where its
        # attribute name would hide a method such as `rules`.
        name = field.encode_name
        label = _label(annotation, name)
        if name not in data:
            if field.required and not partial:
                errors[prefix + name] = _missing_message(annotation, label)
            continue
        try:
            values[name] = _value(annotation, data[name], label, partial, prefix + name)
        except ValueError as exc:
            errors[prefix + name] = str(exc)
        except ValidationFailed as exc:
            errors |= exc.errors
    known = {field.encode_name for field, _ in fields}
    for name in sorted(set(data) - known, key=str):
        errors[prefix + str(name)] = schema.unknown_field_message
    if _rules_can_run(schema, values, errors, prefix):
        errors |= {prefix + name: message for name, message in schema.rules(values).items()}
    if errors:
        raise ValidationFailed(errors)
    return values


def _rules_can_run(schema: type[Schema], values: Values, errors: dict[str, str], prefix: str) -> bool:
    if not errors:
        return True
    read = schema.rules_read
    wrong = {key.removeprefix(prefix).split(".", 1)[0] for key in errors}
    return bool(read) and all(name in values and name not in wrong for name in read)


@functools.cache
def _fields(schema: type[Schema]) -> tuple[tuple[msgspec.structs.FieldInfo, Any], ...]:
    """The schema's fields with their annotations, worked out once per schema rather than per request."""
    hints = typing.get_type_hints(schema, include_extras=True)
    return tuple((field, hints[field.name]) for field in msgspec.structs.fields(schema))


def text_fields(schema: type[Schema]) -> dict[str, tuple[str, int]]:
    """The schema's text fields: name -> (label, maximum length)."""
    hints = typing.get_type_hints(schema, include_extras=True)
    found = {}
    for name, annotation in hints.items():
        for item in _parts(annotation)[1]:
            if isinstance(item, Rule) and item.max_length is not None:
                found[name] = (_label(annotation, name), item.max_length)
    return found


def documented_limits(annotation: Any) -> dict[str, Any]:
    """The limits a field's rules state for /api/docs, in rule order (a later pattern replaces one before it)."""
    limits: dict[str, Any] = {}
    for item in _parts(annotation)[1]:
        if isinstance(item, Rule):
            limits |= item.limits
    return limits


def _parts(annotation: Any) -> tuple[Any, list[Any]]:
    """(the type without UNSET, the Annotated metadata)."""
    metadata: list[Any] = []
    while get_origin(annotation) is typing.Annotated:
        annotation, *extra = get_args(annotation)
        metadata.extend(extra)
    if get_origin(annotation) in (typing.Union, _UNION_TYPE):
        members = [arg for arg in get_args(annotation) if arg is not UnsetType]
        annotation = members[0] if len(members) == 1 else typing.Union[tuple(members)]  # noqa: UP007
    return annotation, metadata


_UNION_TYPE = type(int | None)


def _label(annotation: Any, name: str) -> str:
    for item in _parts(annotation)[1]:
        if isinstance(item, Meta) and item.title:
            return item.title
    return name.replace("_", " ").capitalize()


def _missing_message(annotation: Any, label: str) -> str:
    for item in _parts(annotation)[1]:
        if isinstance(item, Rule) and item.missing:
            return item.missing
    return f"{label} is required."


def _value(annotation: Any, raw: Any, label: str, partial: bool, path: str) -> Any:
    base, metadata = _parts(annotation)
    nested = _nested_schema(base)
    if nested is not None and raw is not None:
        return _load(nested, raw, partial, prefix=path + ".")
    rules = [item for item in metadata if isinstance(item, Rule)]
    items = _item_schema(base)
    if items is not None:
        value = _load_items(items, raw, label, partial, path)
    elif any(rule.converts for rule in rules):
        value = raw
    else:
        try:
            value = msgspec.convert(raw, base, strict=False)
        except msgspec.ValidationError:
            raise ValueError(_type_message(base, label)) from None
    if isinstance(value, enum.Enum):
        value = value.value  # stored and compared as plain text
    for rule in rules:
        value = rule.clean(value, label)
    return value


def _nested_schema(base: Any) -> type[Schema] | None:
    candidates = get_args(base) if get_origin(base) in (typing.Union, _UNION_TYPE) else (base,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, Schema):
            return candidate
    return None


def _item_schema(base: Any) -> type[Schema] | None:
    """X of list[X] when X is a Schema."""
    if get_origin(base) is list:
        (item,) = get_args(base)
        return _nested_schema(item)
    return None


def _load_items(schema: type[Schema], raw: Any, label: str, partial: bool, path: str) -> list[Values]:
    """Each item loaded by `schema`, its errors named `path.<index>.<field>`, all of them at once."""
    if not isinstance(raw, list):
        raise ValueError(f"{label} must be a list.")
    loaded: list[Values] = []
    errors: dict[str, str] = {}
    for index, item in enumerate(raw):
        try:
            loaded.append(_load(schema, item, partial, prefix=f"{path}.{index}."))
        except ValidationFailed as exc:
            errors |= exc.errors
    if errors:
        raise ValidationFailed(errors)
    return loaded


def _type_message(base: Any, label: str) -> str:
    union = get_origin(base) in (typing.Union, _UNION_TYPE)
    kind = next(arg for arg in get_args(base) if arg is not type(None)) if union else base
    while get_origin(kind) is typing.Annotated:
        kind = get_args(kind)[0]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return f"{label} must be one of: {', '.join(str(member.value) for member in kind)}."
    messages = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    if kind in messages:
        return f"{label} must be {messages[kind]}."
    if get_origin(kind) is list:
        return f"{label} must be a list."
    if get_origin(kind) is dict:
        return f"{label} must be name: value pairs; values must be text, numbers, true/false or empty."
    return f"{label} has the wrong type."


def idempotency_key(schema: type[Schema], values: Values, header_key: str | None) -> str | None:
    """The client's idempotency key: the body's `idempotency_key` or the Idempotency-Key header,
    checked by the field's rule; sent both ways, they must be the same key."""
    field_key: str | None = values.get("idempotency_key")
    if header_key is None:
        return field_key
    annotation = next(annotation for field, annotation in _fields(schema) if field.encode_name == "idempotency_key")
    try:  # the field's own rule, without the schema's rules about other fields
        header: str = _value(annotation, header_key, "The Idempotency-Key header", False, "idempotency_key")
    except ValueError as exc:
        raise ValidationFailed({"idempotency_key": str(exc)}) from None
    if field_key is not None and field_key != header:
        raise ValidationFailed({"idempotency_key": "Differs from the Idempotency-Key header: send one key."})
    return header
