"""Helpers for staff UI form handlers: reading a form (Litestar's parser, or every field with its
blanks), ids from checkboxes and query strings, and the answer after a change (HX-Location for
HTMX, 303 for plain browsers)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HXLocation
from litestar.response import Redirect

from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.validation import is_valid_id

# Repeated fields (checkboxes) arrive as a list; blank fields do not arrive at all.
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
# Every field as a list of its values, blanks included (read_form).
FormFields = dict[str, list[str]]
MAX_FORM_FIELDS = 1000
MAX_SELECTED = 1000


async def read_form(request: Request[Any, Any, Any]) -> FormFields:
    """Every field of a URL-encoded form as a list of values, blank ones included: Litestar's own
    parser drops blanks, which would misalign key/value rows and make a cleared input look unsent."""
    body = (await request.body()).decode("utf-8", "replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise ValidationFailed({"form": f"The form has more than {MAX_FORM_FIELDS} fields."}) from None
    form: FormFields = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def first(form: FormFields, name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def optional_id(raw: Any) -> int | None:
    """An id from a form or query value, or None for anything no row can have."""
    text = str(raw or "").strip()
    value = int(text) if re.fullmatch(r"[0-9]{1,19}", text) else 0
    return value if is_valid_id(value) else None


def parse_ids(values: list[str], what: str = "contact") -> list[int]:
    """Ticked ids (one or many `ids` fields); anything that is not an id is an error, not a guess."""
    ids: list[int] = []
    for raw in values:
        if (value := optional_id(raw)) is None:
            raise ValidationFailed({"ids": f"'{raw[:40]}' is not a {what} id."})
        if value not in ids:
            ids.append(value)
    if len(ids) > MAX_SELECTED:
        raise ValidationFailed({"ids": f"Select at most {MAX_SELECTED:,} {what}s at a time."})
    return ids


def form_ids(data: dict[str, Any], name: str = "ids") -> list[int]:
    """The ids ticked in a form; anything that is not a possible id is ignored."""
    raw = data.get(name) or []
    ids = []
    for item in raw if isinstance(raw, list) else [raw]:
        try:
            value = int(item)
        except ValueError:
            continue
        if is_valid_id(value) and value not in ids:
            ids.append(value)
    return ids


def after_change(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """Where to go after a successful POST: HTMX follows HX-Location, a browser the 303."""
    if request.headers.get("hx-request"):
        return HXLocation(url, status_code=200)
    return Redirect(url, status_code=303)


def field_errors(exc: ValidationFailed | Conflict) -> dict[str, str]:
    """Messages keyed by form field, for showing next to the fields; "form" when no field is named."""
    if isinstance(exc, ValidationFailed):
        return exc.errors
    return {exc.field or "form": exc.message}
