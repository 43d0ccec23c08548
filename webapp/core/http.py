"""The types route handlers are written with: a staff or API request (whose user is a Principal),
a subscriber's or mail client's request (no user), either, and a response of any content."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import State

from webapp.core.access import Principal

StaffRequest = Request[Principal, Any, State]
PublicRequest = Request[Any, Any, State]
AnyRequest = Request[Any, Any, Any]  # either; e.g. in the error handlers
AnyResponse = Response[Any]
