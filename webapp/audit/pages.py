"""Staff UI: the audit log (admins only), newest first, filtered by who and by area."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from webapp.audit import service as audit
from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db

VARY = {"Vary": "HX-Request, HX-Target"}  # the page, or its table alone


class AuditLogController(Controller):
    path = "/settings/audit-log"
    opt = ADMIN_ONLY

    @get("/", name="audit-log")
    async def index(
        self,
        request: HTMXRequest,
        db: Db,
        actor: FromQuery[str | None] = None,
        area: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        params = {"actor": (actor or "").strip(), "area": (area or "").strip()}
        found = await audit.page(db, account=params["actor"], area=params["area"], cursor=cursor)
        context = {"params": params, "found": found, "cursor": cursor or ""}
        if request.htmx.target == "audit-results" and not request.htmx.history_restore_request:
            return Template("audit/_results.html", context=context, headers=VARY)
        actors, areas = await audit.choices(db)
        return Template("audit/index.html", context={**context, "actors": actors, "areas": areas}, headers=VARY)
