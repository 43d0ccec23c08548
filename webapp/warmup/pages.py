"""Staff UI for warm-up plans (/warmup): the plans with where each stands today, a plan's page
(schedule, rates, the hold and its release), and the form with its 30 daily maxima. Viewers read;
editors create, change, release and delete."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import EDITORS_ONLY, Role
from webapp.core.audit_trail import CHANGES_NOTHING
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import FormFields, after_change, first, optional_id, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.warmup import service as warmup
from webapp.warmup.models import SCHEDULE_DAYS, WarmupPlan
from webapp.warmup.schemas import SCOPE_LABELS
from webapp.warmup.service import holds, overview
from webapp.warmup.service.schedule import DEFAULT_TARGET, default_schedule, schedule_for, today

URL = "/warmup"
FIELDS = ("name", "scope", "from_domain", "starts_on", "bounce_threshold", "complaint_threshold", "min_sample")
DAY_ERROR = re.compile(r"^Day (\d+) ")


def _new_plan() -> dict[str, Any]:
    return {
        "scope": "smtp_server",
        "starts_on": today().isoformat(),
        "daily_limits": default_schedule(),
        "target": DEFAULT_TARGET,
        "bounce_threshold": 5,
        "complaint_threshold": 0.3,
        "min_sample": 100,
        "is_active": True,
    }


def _values(plan: WarmupPlan) -> dict[str, Any]:
    values = {name: getattr(plan, name) for name in FIELDS}
    return values | {
        "smtp_server_id": plan.smtp_server_id,
        "provider_id": plan.provider_id,
        "daily_limits": plan.daily_limits,
        "target": plan.daily_limits[-1],
        "is_active": plan.is_active,
    }


def _typed(form: FormFields) -> dict[str, Any]:
    """A plan (PlanInput's shape) as the form sent it; an unticked box is "no"."""
    return {name: first(form, name) for name in FIELDS} | {
        "smtp_server_id": optional_id(first(form, "smtp_server_id")),
        "provider_id": optional_id(first(form, "provider_id")),
        "daily_limits": [first(form, f"day_{day}") for day in range(1, SCHEDULE_DAYS + 1)],
        "target": first(form, "target"),
        "is_active": first(form, "is_active") or "no",  # the box is sent as "yes" only when ticked
    }


def _plan(typed: dict[str, Any]) -> dict[str, Any]:
    """What the service takes of the form: all but the target, which only fills in the days."""
    return {name: value for name, value in typed.items() if name != "target"}


def _errors(exc: ValidationFailed) -> dict[str, str]:
    """The schedule's message next to the day it is about."""
    errors = dict(exc.errors)
    if (found := DAY_ERROR.match(errors.get("daily_limits", ""))) is not None:
        errors[f"day_{found.group(1)}"] = errors.pop("daily_limits")
    return errors


class WarmupController(Controller):
    path = URL

    async def _form(
        self,
        db: AsyncSession,
        plan: WarmupPlan | None,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        context = {
            "plan": plan,
            "values": values | {"is_active": values["is_active"] in (True, "yes")},
            "errors": errors,
            "scopes": list(SCOPE_LABELS.items()),
            "servers": [("", "Choose a server")] + [(str(i), n) for i, n in (await warmup.server_names(db)).items()],
            "providers": [("", "Choose a provider")]
            + [(str(i), n) for i, n in (await warmup.provider_names(db)).items()],
        }
        return Template("warmup/form.html", context=context, status_code=status_code)

    @get("/", name="warmup")
    async def index(self, request: StaffRequest, db: Db) -> Template:
        context = {
            "plans": await overview.plans_today(await warmup.list_plans(db)),
            "servers": await warmup.server_names(db),
            "providers": await warmup.provider_names(db),
            "can_edit": request.user.can(Role.EDITOR),
        }
        return Template("warmup/index.html", context=context)

    @get("/new", opt=EDITORS_ONLY)
    async def new(self, db: Db) -> Template:
        return await self._form(db, None, _new_plan(), {})

    @post("/", status_code=200)
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        typed = _typed(form)
        try:
            plan = await warmup.create_plan(db, _plan(typed))
        except ValidationFailed as exc:
            return await self._form(db, None, typed, _errors(exc), status_code=422)
        flash(request, f"Warm-up plan “{plan.name}” added.", "success")
        return after_change(request, f"{URL}/{plan.id}")

    @post(["/fill", "/{plan_id:int}/fill"], status_code=200, opt=CHANGES_NOTHING)
    async def fill(self, request: StaffRequest, db: Db, plan_id: FromPath[int | None] = None) -> Template:
        plan = await warmup.get_plan(db, plan_id) if plan_id is not None else None
        return await self._filled(db, plan, _typed(await read_form(request)))

    async def _filled(self, db: AsyncSession, plan: WarmupPlan | None, typed: dict[str, Any]) -> Template:
        """The form again with the default schedule to the target typed (nothing saved)."""
        try:
            typed["daily_limits"] = schedule_for(typed["target"])
        except ValidationFailed as exc:
            return await self._form(db, plan, typed, exc.errors, status_code=422)
        return await self._form(db, plan, typed, {})

    @get("/{plan_id:int}")
    async def show(self, request: StaffRequest, db: Db, plan_id: FromPath[int]) -> Template:
        plan = await warmup.get_plan(db, plan_id)
        context = {
            "p": await overview.plan_today(plan),
            "rates": await holds.rates(db, plan),
            "servers": await warmup.server_names(db),
            "providers": await warmup.provider_names(db),
            "can_edit": request.user.can(Role.EDITOR),
        }
        return Template("warmup/show.html", context=context)

    @get("/{plan_id:int}/edit", opt=EDITORS_ONLY)
    async def edit(self, db: Db, plan_id: FromPath[int]) -> Template:
        plan = await warmup.get_plan(db, plan_id)
        return await self._form(db, plan, _values(plan), {})

    @post("/{plan_id:int}/edit", status_code=200)
    async def update(self, request: StaffRequest, db: Db, plan_id: FromPath[int]) -> AnyResponse:
        plan = await warmup.get_plan(db, plan_id)
        form = await read_form(request)
        typed = _typed(form)
        try:
            await warmup.update_plan(db, plan_id, _plan(typed))
        except ValidationFailed as exc:
            return await self._form(db, plan, typed, _errors(exc), status_code=422)
        flash(request, f"Warm-up plan “{plan.name}” saved.", "success")
        return after_change(request, f"{URL}/{plan_id}")

    @post("/{plan_id:int}/release", status_code=200)
    async def release(self, request: StaffRequest, db: Db, plan_id: FromPath[int]) -> AnyResponse:
        try:
            plan = await holds.release(db, plan_id, request.user.name)
        except Conflict as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, f"Warm-up plan “{plan.name}” released: its held messages go within a minute.", "success")
        return after_change(request, f"{URL}/{plan_id}")

    @get("/{plan_id:int}/delete", opt=EDITORS_ONLY)
    async def confirm_delete(self, db: Db, plan_id: FromPath[int]) -> Template:
        return Template("warmup/delete.html", context={"plan": await warmup.get_plan(db, plan_id)})

    @post("/{plan_id:int}/delete", status_code=200)
    async def delete(self, request: StaffRequest, db: Db, plan_id: FromPath[int]) -> AnyResponse:
        plan = await warmup.delete_plan(db, plan_id)
        flash(request, f"Warm-up plan “{plan.name}” deleted: what it held back goes at its next try.", "success")
        return after_change(request, URL)
