"""Parameters are inputs too, checked for every route at once, before any handler or query sees them.

- PostgreSQL text cannot hold a NUL and no parameter of ours has a use for one, so a NUL anywhere in
  a query string (in a name or a value) is a 400 naming the parameter.
- A number in the path is written in ASCII digits without leading zeros: Python's int() also reads
  "4_2_4", " 2", "+2", "02" and fullwidth digits, which would reach the same row by many names (and
  log a change under one nobody searches for). Those are 404, as "abc" is."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.types import ASGIApp, Receive, Scope, Send

NUL = "\x00"
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _parameter_with_nul(query_string: bytes) -> str | None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\x00")
    return None


def _number_not_in_digits(scope: Scope) -> bool:
    parsed: Mapping[str, object] = scope.get("path_params", {})  # typed as text, but parsed by the route's types
    numbers = {name for name, value in parsed.items() if type(value) is int}
    if not numbers:
        return False
    template, path = str(scope.get("path_template") or "").split("/"), scope["path"].split("/")
    return any(part[1:-1] in numbers and not NUMBER.fullmatch(raw) for part, raw in zip(template, path, strict=False))


def check_parameters(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            if name := _parameter_with_nul(scope.get("query_string", b"")):
                raise ValidationException(
                    "The request is not valid.",
                    extra=[{"key": name, "message": "Contains a character that is not allowed (NUL)."}],
                )
            if _number_not_in_digits(scope):
                raise NotFoundException()
        await app(scope, receive, send)

    return middleware
