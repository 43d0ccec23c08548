"""Helpers for staff UI form handlers: the form body type, ids from checkboxes, and the answer
after a change (HX-Location for HTMX, 303 for plain browsers)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HXLocation
from litestar.response import Redirect

from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.validation import is_valid_id

# Repeated fields (checkboxes) arrive as a list; blank fields do not arrive at all.
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


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


def after_change(request: Request, url: str) -> Response:
    """Where to go after a successful POST: HTMX follows HX-Location, a browser the 303."""
    if request.headers.get("hx-request"):
        return HXLocation(url, status_code=200)
    return Redirect(url, status_code=303)


def field_errors(exc: ValidationFailed | Conflict) -> dict[str, str]:
    """Messages keyed by form field, for showing next to the fields; "form" when no field is named."""
    if isinstance(exc, ValidationFailed):
        return exc.errors
    return {exc.field or "form": exc.message}
