"""Query parameters are inputs too. PostgreSQL text cannot hold a NUL and no parameter of ours has a
use for one, so a NUL anywhere in a query string (in a name or a value) is a 400 naming the
parameter, for every route at once, before any handler or query sees it."""

from __future__ import annotations

from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.exceptions import ValidationException
from litestar.types import ASGIApp, Receive, Scope, Send

NUL = "\x00"


def _parameter_with_nul(query_string: bytes) -> str | None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\x00")
    return None


def reject_nul_parameters(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and (name := _parameter_with_nul(scope.get("query_string", b""))):
            raise ValidationException(
                "The request is not valid.",
                extra=[{"key": name, "message": "Contains a character that is not allowed (NUL)."}],
            )
        await app(scope, receive, send)

    return middleware
