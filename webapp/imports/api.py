"""JSON API: contact import (a multipart upload that returns a job to poll) and CSV export."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from litestar.response import Stream
from msgspec import Struct
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import ContactStatus
from webapp.contacts.schemas import TableParams
from webapp.core.api import error_responses, id_parameter
from webapp.core.config import get_settings
from webapp.core.downloads import csv_download
from webapp.core.errors import ValidationFailed
from webapp.imports import actors as import_actors
from webapp.imports.models import ImportJob
from webapp.imports.queries import jobs as import_queries
from webapp.imports.service import export as exports
from webapp.imports.service import jobs as imports

JobId = Annotated[int, id_parameter("Import job id.")]
ListId = Annotated[int, id_parameter("List id.")]


class RejectOut(Struct):
    line: int
    kind: str  # rejected | duplicate
    email: str
    reason: str


class ImportJobOut(Struct, kw_only=True):
    id: int
    status: str  # queued | running | done | failed (draft: uploaded in the UI, not started)
    url: str
    page_url: str
    mode: str
    filename: str
    mapping: dict[str, str]
    total: int  # an estimate until status is done
    processed: int
    inserted: int
    updated: int
    skipped: int
    duplicates: int
    rejected: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    rejects: list[RejectOut]
    next_after: int | None  # pass as `after` for the next page of rejects


def job_out(job: ImportJob, rejects: list[Any] | None = None, next_after: int | None = None) -> ImportJobOut:
    return ImportJobOut(
        id=job.id,
        status=job.status,
        url=f"/api/contacts/import/{job.id}",
        page_url=f"/contacts/import/{job.id}",
        mode=job.mode,
        filename=job.filename,
        mapping={header: target for header, target in zip(job.headers, job.mapping, strict=False) if target},
        total=job.total,
        processed=job.processed,
        inserted=job.inserted,
        updated=job.updated,
        skipped=job.skipped,
        duplicates=job.duplicates,
        rejected=job.rejected,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        next_after=next_after,
        rejects=[RejectOut(r.line, r.kind, r.email, r.reason) for r in rejects or []],
    )


def _mapping(job: ImportJob, raw: str | None) -> list[str]:
    if raw is None or not raw.strip():
        return list(job.mapping)  # guessed from the headers
    try:
        return imports.mapping_by_header(job, json.loads(raw))
    except json.JSONDecodeError as exc:
        raise ValidationFailed({"mapping": f"Not valid JSON: {exc.msg} (position {exc.pos})."}) from None


class ApiImportsController(Controller):
    path = "/contacts"
    tags = ("contacts",)

    @post(
        "/import",
        status_code=202,
        request_max_body_size=get_settings().imports.max_bytes,
        summary="Import contacts from a file",
        description="Upload a CSV or XLSX file as multipart/form-data (`file`). Without `mapping`, columns are "
        "matched to fields by their header (Email, First name, Company, Tags, ...); with it, `mapping` is a JSON "
        'object of header to field, e.g. {"E-mail": "email", "Plan": "custom:plan", "Notes": "ignore"}. '
        "Modes: add (new contacts only), upsert (add and update), list (add to the static list `list_id`), "
        "unsubscribe, suppress (with `reason`). Answers 202 with the job; poll `url` until status is done.",
        responses=error_responses(422),
    )
    async def import_contacts(self, request: Request, db: AsyncSession) -> Response[ImportJobOut]:
        form = await request.form()  # read here, not as a typed body, so a missing file is a 422 naming it
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed({"file": "Attach the CSV or XLSX file as the multipart/form-data field `file`."})
        fields = {name: str(form.get(name) or "") for name in ("mode", "mapping", "list_id", "reason")}
        try:
            job = await imports.create_draft(db, upload.file, upload.filename, f"api:{request.user.name}")
        finally:
            await upload.close()
        try:
            await imports.start(
                db,
                job,
                _mapping(job, fields["mapping"]),
                fields["mode"] or "add",
                fields["list_id"],
                fields["reason"] or None,
                field_of=lambda key: "mapping",
            )
        except ValidationFailed:
            await imports.discard(db, job)
            await db.commit()
            raise
        import_actors.enqueue(job.id)
        return Response(job_out(job), status_code=202, headers={"Location": f"/api/contacts/import/{job.id}"})

    @get(
        "/import/{job_id:int}",
        summary="An import job",
        description="Status and counts; once done, the rows not imported (rejected, or repeating an earlier "
        "row's address) with their line numbers, `limit` at a time after line `after`.",
        responses=error_responses(404),
    )
    async def get_import(
        self,
        db: AsyncSession,
        job_id: JobId,
        after: Annotated[int, Parameter(ge=0, le=2**31 - 1, description="Line to continue after.")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000, description="Rejected rows per page.")] = 100,
    ) -> ImportJobOut:
        job = await imports.get_job(db, job_id)
        rejects, next_after = await import_queries.rejects_page(db, job.id, after, limit)
        return job_out(job, rejects, next_after)

    @get(
        "/export",
        summary="Export contacts as CSV",
        description="Streamed CSV of every contact, the members of `list_id` (a list of any type), and/or "
        "those matching `q`, `tag`, `company`, `status`, `active` (yes/no) as on the contacts page. Columns: "
        "email, names, phone, company, job_title, location, tags, language, status, is_active, dates, then "
        "one per custom field.",
        responses=error_responses(404),
        media_type="text/csv",
    )
    async def export_contacts(
        self,
        db: AsyncSession,
        list_id: Annotated[ListId | None, Parameter(description="Only this list's members (any list type).")] = None,
        q: Annotated[str | None, Parameter(description="Word prefixes of email, name or company.")] = None,
        tag: Annotated[str | None, Parameter(description="Contacts with this tag.")] = None,
        company: Annotated[str | None, Parameter(description="Company, exact but case-insensitive.")] = None,
        status: Annotated[ContactStatus | None, Parameter(description="Subscription status.")] = None,
        active: Annotated[str | None, Parameter(description="yes or no.")] = None,
    ) -> Stream:
        params = TableParams.from_query(
            {"q": q, "tag": tag, "company": company, "status": status.value if status else "", "active": active}
        )
        export = await exports.prepare(db, params.filters, list_id)
        return csv_download(export.stream(), export.filename)
