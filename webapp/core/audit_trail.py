"""The audit trail: every change a staff member or API key made that succeeded (an unsafe method
answered below 400) is handed to a recorder (the audit feature's, set by the app) once the response
is sent, so recording never delays it. Refused and failed requests change nothing and are not
recorded; nor are routes marked NOT_AUDITED (data that programs send in volume: transactional
messages, conversions and contact events, each kept with its time and source where it is stored) or
CHANGES_NOTHING (a POST that only works something out as one types: a preview, a count, a form
redrawn with a row added), nor a request its handler said changed nothing (`changed_nothing`: a
confirmation asked, a refusal answered with a redirect and a message)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from webapp.core.access import Principal
from webapp.core.changes import Change
from webapp.core.security import SAFE_METHODS

NOT_AUDITED = {"audited": False}  # route option: data programs send in volume, kept where it is stored
CHANGES_NOTHING = {"audited": False}  # route option: a POST that only answers what was typed
logger = logging.getLogger("mailroom.audit")


Recorder = Callable[[Change], Awaitable[None]]
UNCHANGED = "mailroom.changed_nothing"  # in the request's state


def changed_nothing(request: Request[Any, Any, Any]) -> None:
    """This request changed nothing, though it answers below 400: leave it out of the audit log."""
    request.scope.setdefault("state", {})[UNCHANGED] = True


class AuditTrailMiddleware:
    def __init__(self, app: ASGIApp, record: Recorder) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 0

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, noting_status)
        principal, handler = scope.get("user"), scope.get("route_handler")
        if not isinstance(principal, Principal) or not 0 < status < 400:
            return
        if handler is not None and not handler.opt.get("audited", True):
            return
        if scope.get("state", {}).get(UNCHANGED):
            return
        client = scope.get("client")
        change = Change(
            principal=principal,
            method=scope["method"],
            path=scope["path"],
            route=str(scope.get("path_template") or scope["path"]),
            status=status,
            ip=client[0] if client else "unknown",
        )
        try:
            await self.record(change)
        except Exception:  # the change is made and answered: a lost log line must not turn it into an error
            logger.exception("could not record %s %s in the audit log", change.method, change.path)
