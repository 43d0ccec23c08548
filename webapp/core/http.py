"""The types route handlers are written with: a staff or API request (whose user is a Principal),
a subscriber's or mail client's request (no user), either, and a response of any content; and the
request class the app uses."""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Request, Response
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.plugins.htmx import HTMXRequest

from webapp.core.access import Principal

# A transparent 1x1 GIF (open tracking, the conversion pixel), and headers that keep a hit from caches.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
NO_CACHE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache", "Expires": "0"}
# What a message's links are fetched with: HEAD (link checkers, scanners) answers as GET would.
GET_OR_HEAD = [HttpMethod.GET, HttpMethod.HEAD]

StaffRequest = Request[Principal, Any, State]
PublicRequest = Request[Any, Any, State]
AnyRequest = Request[Any, Any, Any]  # either; e.g. in the error handlers
AnyResponse = Response[Any]


class AppRequest(HTMXRequest):
    """The HTMX plugin's request, where JSON nested deeper than the decoder's recursion limit is a
    400 naming the body, not a 500."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ValidationException(
                "The request is not valid.", extra=[{"key": "body", "message": "The JSON is nested too deeply."}]
            ) from None
