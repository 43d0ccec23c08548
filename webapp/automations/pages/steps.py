"""Staff UI: adding, editing and deleting the steps of an automation's draft, and a step's skip
rule. Every change goes through automations.update_draft with the whole new flow, whose errors name
the step by its path (`steps.1.yes.0.template_id`): those of the step in the form are shown next to
its fields (forms.step_errors).

With HTMX a form opens in place (a new step in its slot, a step's form in its place) and only that
part, or the flow after an addition or deletion, is swapped; without JavaScript the same links and
buttons load the builder page with the form open. The rules builder of a condition, a goal or a
skip rule posts to /steps/rules, which redraws the rules (HTMX) or the page with the form as typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import Automation
from webapp.automations.pages import builder
from webapp.automations.pages.builder import Open
from webapp.automations.pages.flow import Slot, find, insert, path_of, remove, replace
from webapp.automations.pages.forms import StepForm, step_errors, step_form, step_from_form
from webapp.automations.schemas.flow import new_step_id
from webapp.automations.service import automations
from webapp.core.access import EDITORS_ONLY
from webapp.core.audit_trail import CHANGES_NOTHING
from webapp.core.deps import Db
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.forms import FormFields, after_change, first, read_form
from webapp.core.http import AnyResponse
from webapp.lists.schemas.rule_form import focus_after, parse_form

Flow = list[dict[str, Any]]


def _partial(request: HTMXRequest) -> bool:
    """An HTMX request for a part of the page (not a boosted link or form: those want the page)."""
    return bool(request.htmx) and not request.htmx.boosted


async def _flow(db: AsyncSession, a: Automation) -> Flow:
    return (await builder.versions(db, a)).steps


def _step(flow: Flow, step_id: str) -> dict[str, Any]:
    step = find(flow, step_id)
    if step is None:
        raise NotFound("This step is not in the automation any more.")
    return step


async def _open(
    request: HTMXRequest, db: AsyncSession, a: Automation, opened: Open, status_code: int = 200
) -> AnyResponse:
    """A form open in the flow. Opening one, HTMX gets the flow with it (so any other form there
    closes: one is open at a time); sent back with errors, the form in its slot or the step with
    its form in its place. Without HTMX, the page."""
    context = await builder.context(db, request, a, open_form=opened)
    if not _partial(request):
        return Template("automations/builder.html", context=context, status_code=status_code)
    if request.method == "GET":
        return Template("automations/_flow_response.html", context=context)
    if opened.mode == "new":
        return Template("automations/_step_form_response.html", context=context, status_code=status_code)
    step = _step(context["steps"], opened.step_id)
    return Template("automations/_step_item.html", context=context | {"step": step}, status_code=status_code)


async def _changed(
    request: HTMXRequest, db: AsyncSession, automation_id: int, step_id: str = "", *, in_place: bool = False
) -> AnyResponse:
    """After a change: with HTMX the step changed in place (and the publish card), or the whole
    flow after an addition or a deletion; otherwise back to the builder at the step."""
    if not _partial(request):
        return after_change(request, f"/automations/{automation_id}" + (f"#step-{step_id}" if step_id else ""))
    a = await automations.get(db, automation_id)
    context = await builder.context(db, request, a) | {"saved_step": step_id}
    if in_place:
        step = _step(context["steps"], step_id)
        return Template("automations/_step_item.html", context=context | {"step": step, "oob_publish": True})
    return HTMXTemplate(
        template_name="automations/_flow_response.html",
        context=context | {"focus_flow": not step_id},
        re_target="#flow",
        re_swap="outerHTML",
    )


async def _save(db: AsyncSession, automation_id: int, flow: Flow) -> None:
    await automations.update_draft(db, automation_id, {"steps": flow})


async def _refused(
    request: HTMXRequest,
    db: AsyncSession,
    automation_id: int,
    exc: ValidationFailed | Conflict,
    open_form: Open,
    path: str,
) -> AnyResponse:
    await db.rollback()
    a = await automations.get(db, automation_id)
    if isinstance(exc, Conflict):
        open_form.errors = {"form": exc.message}
    else:
        mine, others = step_errors(exc.errors, path)
        open_form.errors = mine or {"form": " ".join(others.values())}
    return await _open(request, db, a, open_form, 409 if isinstance(exc, Conflict) else 422)


def _open_from_form(form: FormFields, flow: Flow) -> Open:
    """The form as it was posted to the rules builder, with the button's action applied."""
    mode = first(form, "mode")
    action = first(form, "action")
    if mode == "new":
        slot = Slot.parse(first(form, "at")) or Slot("start")
        typed = step_form(step_from_form(form, first(form, "type"), "new"))
        opened = Open("new", typed, slot=slot)
    else:
        step = _step(flow, first(form, "step_id"))
        if mode == "skip":
            opened = Open("skip", StepForm(step["type"], rules=parse_form(form, action or None)), step_id=step["id"])
        else:
            opened = Open("edit", step_form(step_from_form(form, step["type"], step["id"])), step_id=step["id"])
    opened.focus = focus_after(action, opened.rules)
    return opened


class AutomationStepsController(Controller):
    path = "/automations/{automation_id:int}/steps"

    @get("/new", opt=EDITORS_ONLY)
    async def new(
        self, request: HTMXRequest, db: Db, automation_id: FromPath[int], at: FromQuery[str] = ""
    ) -> AnyResponse:
        a = await automations.get(db, automation_id)
        slot = Slot.parse(at) or Slot("start")
        return await _open(request, db, a, Open("new", StepForm(""), slot=slot))

    @post("/")
    async def create(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        a = await automations.get(db, automation_id)
        flow = await _flow(db, a)
        slot = Slot.parse(first(form, "at")) or Slot("start")
        step = step_from_form(form, first(form, "type"), new_step_id())
        opened = Open("new", step_form(step), slot=slot)
        try:
            changed = insert(flow, slot, step)
        except LookupError:
            changed = insert(flow, Slot("start"), step)  # its place is gone (deleted in another tab)
        try:
            await _save(db, automation_id, changed)
        except (ValidationFailed, Conflict) as exc:
            return await _refused(request, db, automation_id, exc, opened, path_of(changed, step["id"]) or "")
        return await _changed(request, db, automation_id, step["id"])

    @get("/{step_id:str}/edit", opt=EDITORS_ONLY)
    async def edit(
        self, request: HTMXRequest, db: Db, automation_id: FromPath[int], step_id: FromPath[str]
    ) -> AnyResponse:
        a = await automations.get(db, automation_id)
        step = _step(await _flow(db, a), step_id)
        return await _open(request, db, a, Open("edit", step_form(step), step_id=step_id))

    @post("/{step_id:str}")
    async def update(
        self, request: HTMXRequest, db: Db, automation_id: FromPath[int], step_id: FromPath[str]
    ) -> AnyResponse:
        form = await read_form(request)
        a = await automations.get(db, automation_id)
        flow = await _flow(db, a)
        old = _step(flow, step_id)
        step = step_from_form(form, old["type"], step_id) | {"skip_if": old.get("skip_if")}
        changed = replace(flow, step_id, step)
        try:
            await _save(db, automation_id, changed)
        except (ValidationFailed, Conflict) as exc:
            opened = Open("edit", step_form(step), step_id=step_id)
            return await _refused(request, db, automation_id, exc, opened, path_of(changed, step_id) or "")
        return await _changed(request, db, automation_id, step_id, in_place=True)

    @post("/{step_id:str}/delete")
    async def delete(
        self, request: HTMXRequest, db: Db, automation_id: FromPath[int], step_id: FromPath[str]
    ) -> AnyResponse:
        a = await automations.get(db, automation_id)
        flow = await _flow(db, a)
        _step(flow, step_id)
        await _save(db, automation_id, remove(flow, step_id))
        return await _changed(request, db, automation_id)

    @get("/{step_id:str}/skip-if", opt=EDITORS_ONLY)
    async def skip_if(
        self, request: HTMXRequest, db: Db, automation_id: FromPath[int], step_id: FromPath[str]
    ) -> AnyResponse:
        a = await automations.get(db, automation_id)
        step = _step(await _flow(db, a), step_id)
        return await _open(
            request, db, a, Open("skip", StepForm(step["type"], rules=step.get("skip_if")), step_id=step_id)
        )

    @post("/{step_id:str}/skip-if")
    async def save_skip_if(
        self, request: HTMXRequest, db: Db, automation_id: FromPath[int], step_id: FromPath[str]
    ) -> AnyResponse:
        form = await read_form(request)
        a = await automations.get(db, automation_id)
        flow = await _flow(db, a)
        rules = parse_form(form)
        step = _step(flow, step_id) | {"skip_if": rules if rules.get("conditions") else None}
        changed = replace(flow, step_id, step)
        try:
            await _save(db, automation_id, changed)
        except (ValidationFailed, Conflict) as exc:
            opened = Open("skip", StepForm(step["type"], rules=rules), step_id=step_id)
            return await _refused(request, db, automation_id, exc, opened, path_of(changed, step_id) or "")
        return await _changed(request, db, automation_id, step_id, in_place=True)

    @post("/rules", opt=CHANGES_NOTHING)
    async def rules(self, request: HTMXRequest, db: Db, automation_id: FromPath[int]) -> AnyResponse:
        """The rules builder's buttons: add or remove a row, or redraw after a field changed."""
        form = await read_form(request)
        a = await automations.get(db, automation_id)
        opened = _open_from_form(form, await _flow(db, a))
        if not _partial(request):
            return await _open(request, db, a, opened)
        context = await builder.context(db, request, a, open_form=opened)
        return Template("automations/_rules_response.html", context=context)
