"""Staff UI: the automations list, creating one (name, trigger, re-entry), its page (the builder:
builder.py draws it, steps.py edits its steps), its settings, publishing its draft (with the choice
for the contacts already in it), pausing, resuming and archiving. Its enrolments: enrolments.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import Automation
from webapp.automations.pages import builder
from webapp.automations.pages.forms import settings_from_form
from webapp.automations.pages.words import Lookup, describe_trigger
from webapp.automations.service import automations, enrolments
from webapp.core.access import EDITORS_ONLY, Role
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest

PAGE_SIZE = 50
MOVE_CHOICE = "Choose what happens to the contacts already in the automation."
STATUS_CHANGES = {
    "pause": (automations.pause, "Paused '{name}': contacts in it wait where they are."),
    "resume": (automations.resume, "Resumed '{name}'."),
    "archive": (automations.archive, "Archived '{name}': the contacts in it left, and it enrols nobody."),
}


def cursor_or_none(raw: str | None, valid: Any) -> str | None:
    """A page's cursor as sent, or None (the first page) when it is not one."""
    return raw if raw and valid(raw) else None


async def _settings_page(
    db: AsyncSession, a: Automation | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    context = {
        **await builder.choices(db),
        "a": a,
        "values": values,
        "errors": errors,
        "action": f"/automations/{a.id}/settings" if a else "/automations",
    }
    return Template("automations/form.html", context=context, status_code=status_code)


def _saved_values(a: Automation) -> dict[str, Any]:
    return {"name": a.name, "trigger": a.trigger, "reentry": a.reentry, "reentry_days": a.reentry_days}


def _typed_values(values: dict[str, Any], days_typed: str = "") -> dict[str, Any]:
    """The settings as typed, the re-entry days too when another re-entry rule is chosen (they are
    kept in the hidden field, for when the person chooses "every n days" again)."""
    return {"reentry": "once", "reentry_days": days_typed, **values}


async def _builder_page(
    db: AsyncSession, request: StaffRequest, a: Automation, status_code: int = 200, **kwargs: Any
) -> Template:
    context = await builder.context(db, request, a, **kwargs)
    return Template("automations/builder.html", context=context, status_code=status_code)


class AutomationsController(Controller):
    path = "/automations"

    @get("/")
    async def index(self, request: HTMXRequest, db: Db, cursor: FromQuery[str | None] = None) -> Template:
        found = await automations.find(
            db, limit=PAGE_SIZE, cursor=cursor_or_none(cursor, automations.is_automation_cursor)
        )
        ids = [a.id for a in found.automations]
        totals = await enrolments.totals(db, ids)
        names: Lookup = (await builder.choices(db))["names"]
        rows = [
            {
                "automation": a,
                "trigger": describe_trigger(a.trigger, names),
                "enrolled": totals[a.id].enrolled,
                "active": totals[a.id].active,
            }
            for a in found.automations
        ]
        context = {
            "rows": rows,
            "params": {},
            "cursor": cursor or "",
            "next_cursor": found.next_cursor,
            "can_edit": request.user.can(Role.EDITOR),
        }
        headers = {"Vary": "HX-Request, HX-Target"}
        if request.htmx.target == "automation-table" and not request.htmx.history_restore_request:
            return Template("automations/_table.html", context=context, headers=headers)
        return Template("automations/index.html", context=context, headers=headers)

    @get("/new", opt=EDITORS_ONLY)
    async def new(self, db: Db) -> Template:
        return await _settings_page(db, None, _typed_values({"name": "", "trigger": {"kind": ""}}), {})

    @post("/")
    async def create(self, request: HTMXRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        values = settings_from_form(form)
        try:
            a = await automations.create(db, values)
        except ValidationFailed as exc:
            typed = _typed_values(values, first(form, "reentry_days"))
            return await _settings_page(db, None, typed, field_errors(exc), 422)
        flash(request, f"Created '{a.name}'. Add its steps, then publish it to start.", "success")
        return after_change(request, f"/automations/{a.id}")

    @get("/{automation_id:int}")
    async def show(self, request: StaffRequest, db: Db, automation_id: FromPath[int]) -> Template:
        return await _builder_page(db, request, await automations.get(db, automation_id))

    @get("/{automation_id:int}/settings", opt=EDITORS_ONLY)
    async def settings(self, db: Db, automation_id: FromPath[int]) -> Template:
        a = await automations.get(db, automation_id)
        return await _settings_page(db, a, _saved_values(a), {})

    @post("/{automation_id:int}/settings")
    async def save_settings(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        values = settings_from_form(form)
        try:
            a = await automations.update_draft(db, automation_id, values)
        except (ValidationFailed, Conflict) as exc:
            await db.rollback()
            a = await automations.get(db, automation_id)
            typed = _typed_values(values, first(form, "reentry_days"))
            return await _settings_page(db, a, typed, field_errors(exc), 422)
        flash(request, "Settings saved.", "success")
        return after_change(request, f"/automations/{a.id}")

    @post("/{automation_id:int}/publish")
    async def publish(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        a = await automations.get(db, automation_id)
        shown = await builder.versions(db, a)
        choice = first(form, "move_existing")
        totals = (await enrolments.totals(db, [a.id]))[a.id]
        if shown.current is not None and totals.active and choice not in ("yes", "no"):
            return await _builder_page(db, request, a, 422, publish_error=MOVE_CHOICE)
        try:
            version = await automations.publish(db, automation_id, move_existing=choice == "yes")
        except (ValidationFailed, Conflict) as exc:
            await db.rollback()
            a = await automations.get(db, automation_id)
            message = " ".join(field_errors(exc).values())
            return await _builder_page(db, request, a, 409 if isinstance(exc, Conflict) else 422, error=message)
        moved = " The contacts already in it moved to it." if choice == "yes" else ""
        flash(request, f"Published version {version.number}: new contacts take it.{moved}", "success")
        return after_change(request, f"/automations/{automation_id}")

    @post("/{automation_id:int}/pause")
    async def pause(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        return await self._status(request, db, automation_id, "pause")

    @post("/{automation_id:int}/resume")
    async def resume(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        return await self._status(request, db, automation_id, "resume")

    @post("/{automation_id:int}/archive")
    async def archive(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        return await self._status(request, db, automation_id, "archive")

    async def _status(self, request: HTMXRequest, db: AsyncSession, automation_id: int, verb: str) -> AnyResponse:
        change, done = STATUS_CHANGES[verb]
        try:
            a = await change(db, automation_id)
        except Conflict as exc:
            await db.rollback()
            a = await automations.get(db, automation_id)
            return await _builder_page(db, request, a, 409, error=exc.message)
        flash(request, done.format(name=a.name), "success")
        return after_change(request, f"/automations/{automation_id}")
