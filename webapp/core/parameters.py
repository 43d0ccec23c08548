"""Parameters are inputs too, checked for every route at once, before any handler or query sees them.

- PostgreSQL text cannot hold a NUL and no parameter of ours has a use for one, so a NUL anywhere in
  a query string (in a name or a value) is a 400 naming the parameter.
- A number in the path is written in ASCII digits without leading zeros: Python's int() also reads
  "4_2_4", " 2", "+2", "02" and fullwidth digits, which would reach the same row by many names (and
  log a change under one nobody searches for). Those are 404, as "abc" is.
- A staff page's id beyond what a PostgreSQL bigint holds names no row: 404, before any query is
  tried with it. (The API's ids say their range, so a client is told which parameter is wrong: 400;
  subscribers' pages answer such links with pages of their own.)"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.types import ASGIApp, Receive, Scope, Send

from webapp.core.public_pages import SUBSCRIBER_PATHS

NUL = "\x00"
NO_SUCH_ROW = "This does not exist: nothing has that number."
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)")
BIGINT_MAX = 2**63 - 1
RANGE_CHECKED_ELSEWHERE = ("/api/", *SUBSCRIBER_PATHS)


def _parameter_with_nul(query_string: bytes) -> str | None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\x00")
    return None


def _no_such_number(scope: Scope) -> bool:
    """A number in the path that no row can have: not written in plain digits, or, on a page, out of range."""
    parsed: Mapping[str, object] = scope.get("path_params", {})  # typed as text, but parsed by the route's types
    numbers = {name: value for name, value in parsed.items() if type(value) is int}
    if not numbers:
        return False
    if not scope["path"].startswith(RANGE_CHECKED_ELSEWHERE) and any(abs(n) > BIGINT_MAX for n in numbers.values()):
        return True
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
            if _no_such_number(scope):
                raise NotFoundException(NO_SUCH_ROW)
        await app(scope, receive, send)

    return middleware
