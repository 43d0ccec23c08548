"""Staff UI: contact import. Upload a CSV or XLSX file, map its columns on a preview, choose a mode,
then watch the worker's progress and read the report (see live.py for the live parts)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import Role
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import FormFields, after_change, first, optional_id, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.imports import actors as import_actors
from webapp.imports.models import ImportJob, ImportStatus
from webapp.imports.schemas import CUSTOM, FIELDS, MODES
from webapp.imports.service import jobs as imports
from webapp.imports.service.rows import suggested_custom_name
from webapp.lists.models import ListType
from webapp.lists.service import lists
from webapp.suppression.models import SuppressionReason
from webapp.suppression.schemas import REASONS

MAX_UPLOAD = get_settings().imports.max_bytes
MB = 1024 * 1024
REJECTS_PAGE = 50
# A job's URL answers with the whole page or, for the report's pager, the rejected rows only.
VARY = {"Vary": "HX-Request, HX-Target"}


def _can_edit(request: StaffRequest) -> bool:
    return request.user.can(Role.EDITOR)


async def _index(
    request: StaffRequest,
    db: AsyncSession,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    list_id: int | None = None,
) -> Template:
    return Template(
        "imports/index.html",
        status_code=status_code,
        context={
            "jobs": await imports.recent_jobs(db),
            "errors": errors or {},
            "can_edit": _can_edit(request),
            "max_mb": MAX_UPLOAD // MB,
            "list_id": list_id,
        },
    )


# ---- the mapping form: what it shows, and what it sends as an ImportStart ------------------------


def _values_from_job(job: ImportJob) -> dict[str, Any]:
    """The mapping form as first shown: the guessed targets, a suggested name for each new custom field."""
    values: dict[str, Any] = {
        "mode": job.mode,
        "list_id": str(job.list_id or ""),
        "reason": SuppressionReason.MANUAL.value,
    }
    for index, (header, target) in enumerate(zip(job.headers, job.mapping, strict=False)):
        values[f"map_{index}"] = target
        values[f"custom_{index}"] = suggested_custom_name(header)
    return values


def _start_data(job: ImportJob, form: FormFields) -> dict[str, Any]:
    """The form as ImportStart takes it: a target per column from its menu ("New custom field" with
    the name typed next to it), and the mode, list and reason where chosen."""
    mapping = []
    for index in range(len(job.headers)):
        target = first(form, f"map_{index}").strip()
        if target == CUSTOM:
            target = CUSTOM + first(form, f"custom_{index}").strip()
        mapping.append(target)
    chosen = {name: value for name in ("mode", "list_id", "reason") if (value := first(form, name))}
    return {"mapping": mapping, **chosen}


async def _mapping_page(
    request: StaffRequest,
    db: AsyncSession,
    job: ImportJob,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    static_lists = [x for x in await lists.all_lists(db, active_only=True) if x.list_type == ListType.STATIC.value]
    return Template(
        "imports/mapping.html",
        status_code=status_code,
        context={
            "job": job,
            "summary": await imports.preview(job),
            "values": values,
            "errors": errors or {},
            "fields": FIELDS,
            "custom_keys": await imports.menu_custom_keys(db, job),
            "modes": MODES,
            "list_options": [("", "Choose a list…"), *((x.id, x.name) for x in static_lists)],
            "reason_options": [(reason, reason.capitalize()) for reason in REASONS],
            "can_edit": _can_edit(request),
        },
    )


async def job_context(db: AsyncSession, job: ImportJob, after: int = 0) -> dict[str, Any]:
    """What imports/_progress.html (and the report in it) needs."""
    context: dict[str, Any] = {
        "job": job,
        "percent": imports.progress_percent(job),
        "rejects": [],
        "next_after": None,
        "after": after,
        "list": await imports.job_list(db, job),
    }
    if job.is_finished:
        context["rejects"], context["next_after"] = await imports.rejects_page(db, job, after, REJECTS_PAGE)
    return context


class ImportsController(Controller):
    path = "/contacts/import"

    @get("/", name="imports")
    async def index(self, request: StaffRequest, db: Db) -> Template:
        return await _index(request, db, list_id=optional_id(request.query_params.get("list_id")))

    @post("/", status_code=200, request_max_body_size=MAX_UPLOAD)
    async def upload(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await request.form()
        upload, list_id = form.get("file"), optional_id(form.get("list_id"))
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _index(request, db, {"file": "Choose a CSV or XLSX file to upload."}, 422, list_id)
        try:
            job = await imports.create_draft(db, upload.file, upload.filename, request.user.name, list_id=list_id)
        except ValidationFailed as exc:
            return await _index(request, db, exc.errors, 422, list_id)
        finally:
            await upload.close()
        return after_change(request, f"/contacts/import/{job.id}")

    @get("/{job_id:int}")
    async def show(self, request: HTMXRequest, db: Db, job_id: FromPath[int]) -> Template:
        job = await imports.get_job(db, job_id)
        if job.status == ImportStatus.DRAFT.value:
            return await _mapping_page(request, db, job, _values_from_job(job))
        context = await job_context(db, job, optional_id(request.query_params.get("after")) or 0)
        if request.htmx.target == "import-rejects":
            return Template("imports/_rejects.html", context=context, headers=VARY)
        return Template("imports/show.html", context=context, headers=VARY)

    @post("/{job_id:int}/start", status_code=200)
    async def start(self, request: StaffRequest, db: Db, job_id: FromPath[int]) -> AnyResponse:
        job = await imports.get_job(db, job_id)
        form = await read_form(request)
        try:
            await imports.start(db, job, _start_data(job, form))
        except ValidationFailed as exc:
            values = {name: first(form, name) for name in form}  # as chosen and typed
            return await _mapping_page(request, db, job, values, exc.errors, 422)
        except Conflict:  # started already, by a second press of the button: show how it goes
            return after_change(request, f"/contacts/import/{job.id}")
        import_actors.enqueue(job.id)  # the progress card says it started: a banner would outlive the work
        return after_change(request, f"/contacts/import/{job.id}")

    @post("/{job_id:int}/discard", status_code=200)
    async def discard(self, request: StaffRequest, db: Db, job_id: FromPath[int]) -> AnyResponse:
        job = await imports.get_job(db, job_id)
        await imports.discard(db, job)
        flash(request, f"Discarded {job.filename}.", "success")
        return after_change(request, "/contacts/import")
