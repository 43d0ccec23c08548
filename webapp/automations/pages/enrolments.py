"""Staff UI: the contacts enrolled in an automation (each run: status, current step, when it
started and ended; filtered by status, newest first), enrolling one by email, and taking one out."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import Automation, AutomationStatus, EnrolmentStatus
from webapp.automations.pages import builder
from webapp.automations.pages.automations import PAGE_SIZE, cursor_or_none
from webapp.automations.pages.words import Lookup, describe_step
from webapp.automations.schemas.flow import walk
from webapp.automations.service import automations, contacts, enrolments
from webapp.core.access import Role
from webapp.core.deps import Db
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.forms import after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse

STATUSES = [s.value for s in EnrolmentStatus]
KEPT_OUT = (
    "{email} was not enrolled: they went through it already (see its re-entry rule), are in it now, "
    "or may not be mailed."
)


async def _page(
    request: HTMXRequest,
    db: AsyncSession,
    a: Automation,
    status: str | None = None,
    cursor: str | None = None,
    *,
    email: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    status = status if status in STATUSES else ""
    found = await enrolments.find(
        db, a.id, status=status or None, limit=PAGE_SIZE, cursor=cursor_or_none(cursor, enrolments.is_enrolment_cursor)
    )
    shown = await builder.versions(db, a)
    names: Lookup = (await builder.choices(db))["names"]
    flows = [v.steps for v in (shown.current, shown.draft) if v is not None]
    context: dict[str, Any] = {
        "a": a,
        "rows": found.enrolments,
        "emails": await contacts.emails(db, [e.contact_id for e in found.enrolments]),
        "step_names": {step["id"]: describe_step(step, names) for flow in flows for _, step in walk(flow)},
        "params": {"status": status},
        "statuses": STATUSES,
        "cursor": cursor or "",
        "next_cursor": found.next_cursor,
        "can_enrol": request.user.can(Role.EDITOR) and a.status == AutomationStatus.ACTIVE.value,
        "can_remove": request.user.can(Role.EDITOR),
        "email": email,
        "errors": errors or {},
    }
    if request.htmx.target == "enrolment-table" and not request.htmx.history_restore_request:
        return Template("automations/_enrolments.html", context=context)
    return Template("automations/enrolments.html", context=context, status_code=status_code)


class AutomationEnrolmentsController(Controller):
    path = "/automations/{automation_id:int}/enrolments"

    @get("/")
    async def index(
        self,
        request: HTMXRequest,
        db: Db,
        automation_id: FromPath[int],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        return await _page(request, db, await automations.get(db, automation_id), status, cursor)

    @post("/")
    async def enrol(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        email = first(await read_form(request), "email").strip()
        try:
            entered = await enrolments.enrol_contact(db, automation_id, {"email": email})
        except (ValidationFailed, NotFound, Conflict) as exc:
            await db.rollback()
            a = await automations.get(db, automation_id)
            errors = field_errors(exc) if isinstance(exc, ValidationFailed) else {exc.field or "email": exc.message}
            return await _page(request, db, a, email=email, errors=errors, status_code=422)
        if entered:
            flash(request, f"Enrolled {email}.", "success")
        else:
            flash(request, KEPT_OUT.format(email=email), "info")
        return after_change(request, f"/automations/{automation_id}/enrolments")

    @post("/{contact_id:int}/remove")
    async def remove(
        self, request: HTMXRequest, db: Db, automation_id: FromPath[int], contact_id: FromPath[int]
    ) -> AnyResponse:
        if await enrolments.remove(db, automation_id, [contact_id]):
            flash(request, "Took the contact out of the automation.", "success")
        return after_change(request, f"/automations/{automation_id}/enrolments")
