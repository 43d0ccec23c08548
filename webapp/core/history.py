"""A boosted form's POST answered with a page (the form sent back with its mistakes, a question
before going on) leaves the address bar as it was. htmx would put the form's action there: an
address that may answer POST only, so reloading or bookmarking it gave 405, and that is not the page
shown anyway. Successful changes answer with HX-Location, which sets the address itself."""

from __future__ import annotations

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.types import Message, Scope

NAVIGATES = ("hx-location", "hx-redirect", "hx-push-url", "hx-replace-url")


async def keep_address_after_a_post(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or scope.get("method") != "POST":
        return
    if Headers.from_scope(scope).get("hx-boosted") != "true":
        return
    headers = MutableScopeHeaders.from_message(message)
    if not any(name in headers for name in NAVIGATES):
        headers["hx-push-url"] = "false"
