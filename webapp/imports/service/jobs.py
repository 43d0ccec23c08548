"""Contact imports as staff and the API see them: upload a file (a draft job with a guessed column
mapping), check and start it with a mapping and a mode, read its progress and report.

The upload is stored under MAILROOM_UPLOAD_DIR and read by a worker (webapp/services/import_loader.py);
the caller enqueues the job after `start` has committed it. Drafts nobody starts are deleted (file
included) a day later; a finished job's file is deleted by the worker.
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

from webapp.core.config import get_settings
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.validation import is_valid_id
from webapp.imports.models import ImportJob, ImportMode, ImportStatus
from webapp.imports.queries import jobs as queries
from webapp.imports.service.files import FileSummary, UnreadableFile, summarise
from webapp.imports.service.rows import CUSTOM, FIELDS, check_mapping, guess_mapping
from webapp.lists.models import EmailList, ListType
from webapp.suppression.service.suppression import REASONS

MODES = {
    ImportMode.ADD.value: "Add new contacts only (existing ones are left as they are)",
    ImportMode.UPSERT.value: "Add new contacts and update existing ones",
    ImportMode.LIST.value: "Add to a list (new contacts are created)",
    ImportMode.UNSUBSCRIBE.value: "Unsubscribe the listed addresses",
    ImportMode.SUPPRESS.value: "Put the listed addresses on the suppression list",
}
EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")  # .xls: to say it needs saving as .xlsx
FILENAME_MAX = 255


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
    for stale in await queries.stale_drafts(session):
        (upload_dir() / stale).unlink(missing_ok=True)
    stored = f"{uuid.uuid4().hex}{Path(filename).suffix.lower()}"
    path = upload_dir() / stored

    def save_and_read() -> tuple[int, FileSummary]:
        with open(path, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        return path.stat().st_size, summarise(path, filename)

    try:
        size, summary = await anyio.to_thread.run_sync(save_and_read)
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
        mapping=guess_mapping(summary.headers, await queries.custom_keys(session)),
        total=summary.estimated_rows,
        created_by=created_by[:320],
    )
    preset = await session.get(EmailList, list_id) if list_id is not None and is_valid_id(list_id) else None
    if preset is not None and preset.list_type == ListType.STATIC.value:
        job.mode, job.list_id = ImportMode.LIST.value, preset.id
    session.add(job)
    await session.flush()
    return job


async def get_job(session: AsyncSession, job_id: int) -> ImportJob:
    job = await session.get(ImportJob, job_id) if is_valid_id(job_id) else None
    if job is None:
        raise NotFound(f"Import {job_id} does not exist.")
    return job


async def preview(job: ImportJob, rows: int = 10) -> FileSummary:
    """The stored file's first rows, for the mapping step."""
    try:
        return await anyio.to_thread.run_sync(summarise, file_path(job), job.filename, rows)
    except (UnreadableFile, OSError):
        raise Conflict("The uploaded file is no longer there; upload it again.") from None


async def start(
    session: AsyncSession,
    job: ImportJob,
    mapping: Sequence[str],
    mode: Any,
    list_id: Any = None,
    reason: Any = None,
    *,
    field_of: Any = None,
) -> ImportJob:
    """Check the mapping and mode and queue the job (committed). Problems come back all at once as
    ValidationFailed keyed by field: "mode", "list_id", "reason", and for the mapping field_of(key)
    of the column's index, "email" (no column is the address) or "custom" (by default "map_<i>",
    "email", "custom"; the API puts them all under "mapping")."""
    field_of = field_of or (lambda key: f"map_{key}" if isinstance(key, int) else key)
    if job.status != ImportStatus.DRAFT.value:
        raise Conflict("This import has been started already.")
    errors: dict[str, str] = {}
    if mode not in MODES:
        errors["mode"] = "Choose what to do with the rows."
        mode = ImportMode.ADD.value
    targets = [str(target or "").strip() for target in mapping]
    targets += [""] * (len(job.headers) - len(targets))
    for key, message in check_mapping(targets, job.headers, mode).items():
        name = field_of(key)
        where = f"Column '{job.headers[key]}': " if isinstance(key, int) and name == "mapping" else ""
        errors[name] = " ".join(filter(None, [errors.get(name), where + message]))
    chosen_list = await _list_for(session, mode, list_id, errors)
    if mode == ImportMode.SUPPRESS.value and (reason or "manual") not in REASONS:
        errors["reason"] = "Choose a reason: " + ", ".join(REASONS) + "."
    if errors:
        raise ValidationFailed(errors)
    job.mapping, job.mode, job.status = targets, mode, ImportStatus.QUEUED.value
    job.list_id = chosen_list.id if chosen_list else None
    job.suppress_reason = (reason or "manual") if mode == ImportMode.SUPPRESS.value else ""
    await session.commit()
    return job


async def _list_for(session: AsyncSession, mode: str, raw: Any, errors: dict[str, str]) -> EmailList | None:
    if mode != ImportMode.LIST.value:
        return None
    try:
        list_id = int(str(raw or "").strip())
    except ValueError:
        list_id = 0
    email_list = await session.get(EmailList, list_id) if is_valid_id(list_id) else None
    if email_list is None or not email_list.is_active:
        errors["list_id"] = "Choose the list to add the contacts to."
    elif email_list.list_type != ListType.STATIC.value:
        errors["list_id"] = (
            f"'{email_list.name}' is a {email_list.list_type} list: contacts are added to static lists only."
        )
    return email_list if "list_id" not in errors else None


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
            raise ValidationFailed(
                {
                    "mapping": f"The file has no column '{str(header)[:100]}'; its columns are: "
                    + ", ".join(job.headers[:50])
                    + "."
                }
            )
        if not isinstance(target, str) or not (target in FIELDS or target == "ignore" or target.startswith(CUSTOM)):
            raise ValidationFailed(
                {
                    "mapping": f"'{str(target)[:100]}' (for column '{header}') is not a field: use one of "
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
