"""Staff UI: contact import. Upload a CSV or XLSX file, map its columns on a preview, choose a mode,
then watch the worker's progress and read the report (see import_live.py for the live parts)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import Role
from webapp.core.config import get_settings
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, optional_id
from webapp.imports import actors as import_actors
from webapp.imports.models import ImportJob, ImportMode, ImportStatus
from webapp.imports.queries import jobs as import_queries
from webapp.imports.service import jobs as imports
from webapp.imports.service.rows import CUSTOM, FIELDS, suggested_custom_name
from webapp.lists.models import EmailList, ListType
from webapp.lists.service import lists
from webapp.suppression.service.suppression import REASONS

MAX_UPLOAD = get_settings().imports.max_bytes
REJECTS_PAGE = 50


def _can_edit(request: Request) -> bool:
    return request.user.can(Role.EDITOR)


async def _index(
    request: Request,
    db: AsyncSession,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    list_id: int | None = None,
) -> Template:
    return Template(
        "imports/index.html",
        status_code=status_code,
        context={
            "jobs": await import_queries.recent_jobs(db),
            "errors": errors or {},
            "can_edit": _can_edit(request),
            "max_mb": MAX_UPLOAD // (1024 * 1024),
            "list_id": list_id,
        },
    )


def _values_from_job(job: ImportJob) -> dict[str, Any]:
    """The mapping form as first shown: the guessed targets, a suggested name for each new custom field."""
    values: dict[str, Any] = {"mode": job.mode, "list_id": str(job.list_id or ""), "reason": "manual"}
    for index, (header, target) in enumerate(zip(job.headers, job.mapping, strict=False)):
        values[f"map_{index}"] = target
        values[f"custom_{index}"] = suggested_custom_name(header)
    return values


def _targets_from_form(job: ImportJob, form: Any) -> list[str]:
    targets = []
    for index in range(len(job.headers)):
        target = str(form.get(f"map_{index}") or "").strip()
        if target == CUSTOM:  # "New custom field": its name is typed next to the menu
            target = CUSTOM + str(form.get(f"custom_{index}") or "").strip()
        targets.append(target)
    return targets


async def _mapping_page(
    request: Request,
    db: AsyncSession,
    job: ImportJob,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    summary = await imports.preview(job)
    custom_keys = await import_queries.custom_keys(db)
    for target in job.mapping:  # a guessed or chosen existing key stays on the menu
        if target.startswith(CUSTOM) and target[len(CUSTOM) :] not in custom_keys:
            custom_keys.append(target[len(CUSTOM) :])
    static_lists = [x for x in await lists.all_lists(db, active_only=True) if x.list_type == ListType.STATIC.value]
    return Template(
        "imports/mapping.html",
        status_code=status_code,
        context={
            "job": job,
            "summary": summary,
            "values": values,
            "errors": errors or {},
            "fields": FIELDS,
            "custom_keys": sorted(custom_keys),
            "modes": imports.MODES,
            "lists": static_lists,
            "reasons": REASONS,
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
        "list": None,
    }
    if job.list_id is not None:
        context["list"] = await db.get(EmailList, job.list_id)
    if job.is_finished:
        context["rejects"], context["next_after"] = await import_queries.rejects_page(db, job.id, after, REJECTS_PAGE)
    return context


class ImportsController(Controller):
    path = "/contacts/import"

    @get("/", name="imports")
    async def index(self, request: Request, db: AsyncSession) -> Template:
        return await _index(request, db, list_id=optional_id(request.query_params.get("list_id")))

    @post("/", status_code=200, request_max_body_size=MAX_UPLOAD)
    async def upload(self, request: Request, db: AsyncSession) -> Response:
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
    async def show(self, request: HTMXRequest, db: AsyncSession, job_id: int) -> Template:
        job = await imports.get_job(db, job_id)
        if job.status == ImportStatus.DRAFT.value:
            return await _mapping_page(request, db, job, _values_from_job(job))
        after = optional_id(request.query_params.get("after")) or 0
        context = await job_context(db, job, after)
        if request.htmx.target == "import-rejects":
            return Template("imports/_rejects.html", context=context, headers={"Vary": "HX-Request, HX-Target"})
        return Template("imports/show.html", context=context, headers={"Vary": "HX-Request, HX-Target"})

    @post("/{job_id:int}/start", status_code=200)
    async def start(self, request: Request, db: AsyncSession, job_id: int) -> Response:
        job = await imports.get_job(db, job_id)
        form = await request.form()
        values = {key: str(form.get(key) or "") for key in form}
        try:
            await imports.start(
                db,
                job,
                _targets_from_form(job, form),
                values.get("mode") or ImportMode.ADD.value,
                values.get("list_id"),
                values.get("reason"),
            )
        except ValidationFailed as exc:
            return await _mapping_page(request, db, job, values, exc.errors, 422)
        import_actors.enqueue(job.id)
        flash(request, f"Importing {job.filename}: you can leave this page, the import carries on.", "success")
        return after_change(request, f"/contacts/import/{job.id}")

    @post("/{job_id:int}/discard", status_code=200)
    async def discard(self, request: Request, db: AsyncSession, job_id: int) -> Response:
        job = await imports.get_job(db, job_id)
        await imports.discard(db, job)
        flash(request, f"Discarded {job.filename}.", "success")
        return after_change(request, "/contacts/import")
