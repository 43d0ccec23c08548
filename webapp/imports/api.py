"""JSON API: contact import (a multipart upload that returns a job to poll) and CSV export.

The upload is read as a form here rather than declared as a typed body: a missing file is then a
422 naming `file`, and the other fields (mode, list_id, reason, mapping) go through ImportStart
like the mapping form's."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.params import Parameter
from litestar.response import Stream

from webapp.contacts.models import ContactStatus
from webapp.contacts.schemas import TableParams
from webapp.core.api import error_responses, id_parameter, multipart_operation
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.downloads import csv_download
from webapp.core.errors import ValidationFailed
from webapp.core.http import StaffRequest
from webapp.imports import actors as import_actors
from webapp.imports.models import ImportJob
from webapp.imports.schemas import MODES, ImportJobOut, by_header, job_out
from webapp.imports.service import export as exports
from webapp.imports.service import jobs as imports
from webapp.suppression.schemas import REASONS

JobId = Annotated[int, id_parameter("Import job id.")]
ListId = Annotated[int, id_parameter("List id.")]
MAX_LINE = 2**31 - 1  # line numbers are PostgreSQL integers
MAX_REJECTS_PAGE = 1000


def _start_data(job: ImportJob, form: FormMultiDict) -> dict[str, Any]:
    """The upload's fields as ImportStart takes them; without `mapping`, the one guessed from the headers."""
    data: dict[str, Any] = {
        name: value for name in ("mode", "list_id", "reason") if (value := str(form.get(name) or ""))
    }
    raw = str(form.get("mapping") or "")
    if not raw.strip():
        return {"mapping": list(job.mapping), **data}
    try:
        by_name = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationFailed({"mapping": f"Not valid JSON: {exc.msg} (position {exc.pos})."}) from None
    except RecursionError:
        raise ValidationFailed({"mapping": "The JSON is nested too deeply."}) from None
    return {"mapping": imports.mapping_by_header(job, by_name), **data}


UPLOAD = Schema(
    type=OpenAPIType.OBJECT,
    required=["file"],
    properties={
        "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="The CSV or XLSX file."),
        "mode": Schema(type=OpenAPIType.STRING, enum=list(MODES), default="add"),
        "list_id": Schema(type=OpenAPIType.INTEGER, minimum=1, description="The static list, in list mode."),
        "reason": Schema(type=OpenAPIType.STRING, enum=REASONS, description="In suppress mode; manual if not given."),
        "mapping": Schema(type=OpenAPIType.STRING, description="A JSON object of column header to field."),
    },
)


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
        operation_class=multipart_operation(UPLOAD),
    )
    async def import_contacts(self, request: StaffRequest, db: Db) -> Response[ImportJobOut]:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed({"file": "Attach the CSV or XLSX file as the multipart/form-data field `file`."})
        try:
            job = await imports.create_draft(db, upload.file, upload.filename, f"api:{request.user.name}")
        finally:
            await upload.close()
        try:
            await imports.start(db, job, _start_data(job, form))
        except ValidationFailed as exc:
            await imports.discard(db, job)
            await db.commit()
            raise ValidationFailed(by_header(exc.errors, job.headers)) from None
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
        db: Db,
        job_id: JobId,
        after: Annotated[int, Parameter(ge=0, le=MAX_LINE, description="Line to continue after.")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=MAX_REJECTS_PAGE, description="Rejected rows per page.")] = 100,
    ) -> ImportJobOut:
        job = await imports.get_job(db, job_id)
        rejects, next_after = await imports.rejects_page(db, job, after, limit)
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
        db: Db,
        list_id: Annotated[ListId | None, Parameter(description="Only this list's members (any list type).")] = None,
        q: Annotated[str | None, Parameter(description="Word prefixes of email, name or company.")] = None,
        tag: Annotated[str | None, Parameter(description="Contacts with this tag.")] = None,
        company: Annotated[str | None, Parameter(description="Company, exact but case-insensitive.")] = None,
        status: Annotated[ContactStatus | None, Parameter(description="Subscription status.")] = None,
        active: Annotated[Literal["yes", "no"] | None, Parameter(description="yes or no.")] = None,
    ) -> Stream:
        params = TableParams.from_query(
            {"q": q, "tag": tag, "company": company, "status": status.value if status else "", "active": active}
        )
        export = await exports.prepare(db, params.filters, list_id)
        return csv_download(export.stream(), export.filename)
