"""An OPTIONS answer names every method of its path in Allow. Litestar 2 makes a path's OPTIONS
handler with the path's first route and keeps that handler when more handlers join the path later,
so it named only the first ones' methods (Litestar's issue #4169, fixed in Litestar 3)."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


async def complete_allow(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS" or message["status"] != 204:
        return
    template = scope.get("path_template")
    for route in scope["litestar_app"].routes:
        if isinstance(route, HTTPRoute) and route.path_format == template:
            MutableScopeHeaders.from_message(message)["allow"] = ", ".join(sorted(route.methods))
            return
