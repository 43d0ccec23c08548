"""Contact imports as staff and the API see them: upload a file (a draft job with a guessed column
mapping), check and start it with a mapping and a mode (ImportStart), read its progress and report.

The upload is stored under MAILROOM_UPLOAD_DIR and read by a worker (loader.py); the caller
enqueues the job after `start` has committed it. Drafts nobody starts are deleted (file included)
a day later; a finished job's file is deleted by the worker.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.core.config import get_settings
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id
from webapp.imports.models import ImportJob, ImportMode, ImportReject, ImportStatus
from webapp.imports.queries import jobs as queries
from webapp.imports.schemas import CHOOSE_LIST, CUSTOM, FIELDS, IGNORE, NO_SUCH_COLUMN, ImportStart, no_such_list
from webapp.imports.service import reading
from webapp.imports.service.files import UnreadableFile
from webapp.imports.service.reading import FileSummary
from webapp.imports.service.rows import guess_mapping, suggested_custom_name
from webapp.lists.models import EmailList, ListType
from webapp.lists.service import lists
from webapp.suppression.models import SuppressionReason

EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")  # .xls: to say it needs saving as .xlsx
FILENAME_MAX = 255
CREATED_BY_MAX = 320  # ImportJob.created_by
DRAFT_HOURS = 24  # a draft nobody started is deleted after this
COPY_BUFFER = 1 << 20  # bytes copied at a time while storing an upload
QUOTED_MAX = 100  # how much of a header or target the API sent an error message quotes
HEADERS_SHOWN = 50  # of the file's headers, listed when the API names one the file lacks
RECENT_JOBS = 20


def upload_dir() -> Path:
    path = get_settings().imports.upload_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(job: ImportJob) -> Path:
    return upload_dir() / job.stored_name


def _clean_filename(raw: str) -> str:
    name = os.path.basename((raw or "").replace("\\", "/")).replace("\x00", "").strip()
    return name[:FILENAME_MAX] or "upload.csv"


async def create_draft(
    session: AsyncSession,
    source: IO[bytes],
    filename: str,
    created_by: str,
    field: str = "file",
    list_id: int | None = None,
) -> ImportJob:
    """Store an uploaded file and read its columns. ValidationFailed({field: why}) if it cannot be
    imported. With a static list's id, the mapping step starts in "add to a list" mode for that list."""
    filename = _clean_filename(filename)
    if not filename.lower().endswith(EXTENSIONS):
        raise ValidationFailed({field: "Choose a .csv or .xlsx file."})
    for stale in await queries.delete_stale_drafts(session, DRAFT_HOURS):
        (upload_dir() / stale).unlink(missing_ok=True)
    stored = f"{uuid.uuid4().hex}{Path(filename).suffix.lower()}"
    path = upload_dir() / stored

    def save() -> int:
        with open(path, "wb") as target:
            shutil.copyfileobj(source, target, COPY_BUFFER)
        return path.stat().st_size

    try:
        size = await anyio.to_thread.run_sync(save)
        summary = await reading.summary(path, filename)
    except UnreadableFile as exc:
        path.unlink(missing_ok=True)
        raise ValidationFailed({field: str(exc)}) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    job = ImportJob(
        status=ImportStatus.DRAFT.value,
        filename=filename,
        stored_name=stored,
        file_format=summary.fmt.kind,
        file_size=size,
        encoding=summary.fmt.encoding,
        delimiter=summary.fmt.delimiter,
        headers=summary.headers,
        mapping=guess_mapping(summary.headers, await custom_keys_for(session, summary.headers)),
        total=summary.estimated_rows,
        created_by=created_by[:CREATED_BY_MAX],
    )
    preset = await _list_or_none(session, list_id) if list_id is not None else None
    if preset is not None and preset.list_type == ListType.STATIC.value:
        job.mode, job.list_id = ImportMode.LIST.value, preset.id
    session.add(job)
    await session.flush()
    return job


async def get_job(session: AsyncSession, job_id: int) -> ImportJob:
    job = await find_job(session, job_id)
    if job is None:
        raise NotFound(f"Import {job_id} does not exist.")
    return job


async def find_job(session: AsyncSession, job_id: int) -> ImportJob | None:
    return await session.get(ImportJob, job_id) if is_valid_id(job_id) else None


async def recent_jobs(session: AsyncSession) -> Sequence[ImportJob]:
    return await queries.recent_jobs(session, RECENT_JOBS)


async def preview(job: ImportJob) -> FileSummary:
    """The stored file's first rows, for the mapping step."""
    if not file_path(job).exists():
        raise Conflict("The uploaded file is no longer there; upload it again.")
    try:
        return await reading.summary(file_path(job), job.filename)
    except UnreadableFile as exc:
        raise Conflict(str(exc)) from None


async def custom_keys_for(session: AsyncSession, headers: Sequence[str]) -> list[str]:
    """The custom field names in use that the headers may name: those of the newest contacts, and
    any older contact's field a header names that they lack (an export of older contacts imports
    back as it is)."""
    keys = await queries.custom_keys(session)
    unmatched = [
        header for header, target in zip(headers, guess_mapping(headers, keys), strict=True) if target == IGNORE
    ]
    candidates = {name for header in unmatched for name in (header.strip(), suggested_custom_name(header)) if name}
    older = await contacts.custom_fields_used(session, sorted(candidates)) if candidates else set()
    return [*keys, *sorted(older or ())]


async def menu_custom_keys(session: AsyncSession, job: ImportJob) -> list[str]:
    """The custom fields the mapping menu offers: names in use, and those the job's mapping names."""
    keys = set(await queries.custom_keys(session))
    keys.update(target[len(CUSTOM) :] for target in job.mapping if target.startswith(CUSTOM))
    return sorted(keys)


async def start(session: AsyncSession, job: ImportJob, data: Mapping[str, Any]) -> ImportJob:
    """Check the mapping and mode (ImportStart) and queue the job (committed). ValidationFailed
    names every problem, a column's as `mapping.<index>`."""
    if job.status != ImportStatus.DRAFT.value:
        raise Conflict("This import has been started already.")
    values = load(ImportStart, data)
    mode = values.get("mode", ImportMode.ADD.value)
    targets = values["mapping"] + [""] * (len(job.headers) - len(values["mapping"]))
    errors = {f"mapping.{index}": NO_SUCH_COLUMN for index in range(len(job.headers), len(targets))}
    chosen_list = await _list_for(session, mode, values.get("list_id"), errors)
    if errors:
        raise ValidationFailed(errors)
    job.mapping, job.mode, job.status = targets, mode, ImportStatus.QUEUED.value
    job.list_id = chosen_list.id if chosen_list else None
    suppressing = mode == ImportMode.SUPPRESS.value
    job.suppress_reason = values.get("reason", SuppressionReason.MANUAL.value) if suppressing else ""
    await session.commit()
    return job


async def _list_for(session: AsyncSession, mode: str, list_id: int | None, errors: dict[str, str]) -> EmailList | None:
    if mode != ImportMode.LIST.value:
        return None
    email_list = await _list_or_none(session, list_id) if list_id is not None else None
    if email_list is None:
        errors["list_id"] = CHOOSE_LIST if list_id is None else no_such_list(list_id)
    elif not email_list.is_active:
        errors["list_id"] = f"'{email_list.name}' is archived: restore it to import contacts into it."
    elif email_list.list_type != ListType.STATIC.value:
        errors["list_id"] = (
            f"'{email_list.name}' is a {email_list.list_type} list: contacts are added to static lists only."
        )
    return email_list if "list_id" not in errors else None


async def _list_or_none(session: AsyncSession, list_id: int) -> EmailList | None:
    try:
        return await lists.get_list(session, list_id)
    except NotFound:
        return None


async def job_list(session: AsyncSession, job: ImportJob) -> EmailList | None:
    """The list a job adds its contacts to, while it exists."""
    return await _list_or_none(session, job.list_id) if job.list_id is not None else None


async def discard(session: AsyncSession, job: ImportJob) -> None:
    """Delete a draft and its file."""
    if job.status != ImportStatus.DRAFT.value:
        raise Conflict("Only an import that has not been started can be discarded.")
    file_path(job).unlink(missing_ok=True)
    await session.delete(job)
    await session.flush()


def mapping_by_header(job: ImportJob, raw: Any) -> list[str]:
    """The API's mapping, {"column header": "field" | "custom:name" | "ignore"}, as one target per column."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed({"mapping": 'Send an object of column header to field, e.g. {"E-mail": "email"}.'})
    targets = [""] * len(job.headers)
    for header, target in raw.items():
        if header not in job.headers:
            columns = ", ".join(job.headers[:HEADERS_SHOWN])
            raise ValidationFailed(
                {"mapping": f"The file has no column '{str(header)[:QUOTED_MAX]}'; its columns are: {columns}."}
            )
        if not isinstance(target, str) or not (target in FIELDS or target == "ignore" or target.startswith(CUSTOM)):
            raise ValidationFailed(
                {
                    "mapping": f"'{str(target)[:QUOTED_MAX]}' (for column '{header}') is not a field: use one of "
                    + ", ".join(FIELDS)
                    + ", custom:<name> or ignore."
                }
            )
        targets[job.headers.index(header)] = "" if target == "ignore" else target
    return targets


def progress_percent(job: ImportJob) -> float:
    if job.status == ImportStatus.DONE.value:
        return 100.0
    return round(min(100.0, 100.0 * job.processed / job.total), 1) if job.total else 0.0


async def rejects_page(
    session: AsyncSession, job: ImportJob, after_line: int, limit: int
) -> tuple[list[ImportReject], int | None]:
    """A page of the rows not imported, after `after_line`, and the line the next page starts after."""
    return await queries.rejects_page(session, job.id, after_line, limit)


async def claim_stalled(session: AsyncSession) -> list[int]:
    """Jobs whose runner died, to start again (each handed out once per MAILROOM_IMPORT_STALL_SECONDS)."""
    return await queries.claim_stalled(session, get_settings().imports.stall_seconds)
