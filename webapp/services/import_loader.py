"""Running an import job: what the worker's actor calls (and bench/import.py, directly).

A reader thread parses and validates the file and cuts it into chunks of MAILROOM_IMPORT_CHUNK_ROWS
rows while this thread loads the previous chunk, so Python and PostgreSQL work at the same time.
Each chunk is one transaction: COPY into a temporary staging table, drop the addresses an earlier
chunk had (first row wins; see queries/import_load.KEEP_FIRST), one set-based statement for the
mode, the chunk's rejected and duplicate rows, and the job's counters and checkpoint (`processed`).
Progress is published on Redis after each commit. Memory stays at a few chunks whatever the size
of the file: the duplicate check across chunks lives in a temporary table, not in Python.

Safe to run twice: an advisory lock lets one runner at a time work on a job, and a rerun after a
crash reads the file again from the start, replaying the loaded chunks' addresses into the
duplicate check only, and loads the rows after the checkpoint, so nothing is written or counted twice.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from webapp.models import ImportMode
from webapp.queries import import_load as q
from webapp.services import import_progress
from webapp.services.import_files import CSV, FileFormat, Record, RecordReader, UnreadableFile
from webapp.services.import_rows import RowConverter, RowRejected
from webapp.settings import get_settings

log = logging.getLogger("mailroom.imports")
QUEUE_CHUNKS = 2  # chunks parsed ahead of the loader
_DONE = object()


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Chunk:
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # (line, *STAGE_COLUMNS)
    cells: dict[int, list[str]] = field(default_factory=dict)  # line -> the row as read, for reports
    rejects: list[tuple[Any, ...]] = field(default_factory=list)  # (line, kind, email, reason, cells json)
    records: int = 0  # rows of the file in this chunk, whatever became of them
    duplicates: int = 0
    estimated_total: int = 0
    replay: bool = False  # loaded by an earlier run: only its addresses are needed, for the duplicate check


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0


class _Reader(threading.Thread):
    """Parses the file into chunks on a queue; an exception is passed on to the loader."""

    def __init__(self, reader: RecordReader, converter: RowConverter, resume_after: int, chunk_rows: int,
                 estimated_total: int) -> None:
        super().__init__(name="import-reader", daemon=True)
        self.reader, self.converter, self.resume_after = reader, converter, resume_after
        self.chunk_rows, self.estimated_total = chunk_rows, estimated_total
        self.chunks: queue.Queue[Any] = queue.Queue(QUEUE_CHUNKS)
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            for chunk in self._chunks():
                if not self._put(chunk):
                    return
            self._put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the loader thread, which raises it
            self._put(exc)

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _chunks(self) -> Iterator[Chunk]:
        """Chunks of chunk_rows rows; rows up to resume_after (loaded before) come as replay chunks."""
        convert, ordinal, resume_after = self.converter.convert, 0, self.resume_after
        chunk, first_line = Chunk(replay=resume_after > 0), {}
        records = iter(self.reader)
        for record in records:  # the header: the first row that could be read
            if not record.error:
                break
        for record in records:
            ordinal += 1
            try:
                if record.error:
                    raise RowRejected(record.error)
                row = convert(record.cells)
            except RowRejected as exc:
                chunk.rejects.append(_reject(record, "rejected", _email_cell(record, self.converter), str(exc)))
            else:
                first = first_line.setdefault(row[0].lower(), record.line)
                if first == record.line:
                    chunk.rows.append((record.line, *row))
                    chunk.cells[record.line] = record.cells
                else:
                    chunk.duplicates += 1
                    chunk.rejects.append(_reject(record, "duplicate", row[0], f"Same address as line {first}."))
            chunk.records += 1
            if chunk.records >= self.chunk_rows or ordinal == resume_after:
                if self.stop.is_set():
                    return
                chunk.estimated_total = self._estimate(ordinal)
                yield chunk
                chunk, first_line = Chunk(replay=ordinal < resume_after), {}
        if chunk.records:
            chunk.estimated_total = ordinal
            yield chunk

    def _estimate(self, ordinal: int) -> int:
        if self.reader.fmt.kind == CSV and 0 < self.reader.position < self.reader.size:
            return int(ordinal * self.reader.size / self.reader.position)
        return max(self.estimated_total, ordinal)


def _email_cell(record: Record, converter: RowConverter) -> str:
    return record.cells[converter.email_index].strip()[:320] if converter.email_index < len(record.cells) else ""


def _reject(record: Record, kind: str, email: str, reason: str) -> tuple[Any, ...]:
    return (record.line, kind, email, reason, _cells_json(record.cells))


def _cells_json(cells: list[str]) -> str:
    return json.dumps(cells, ensure_ascii=False)


# ---- the job -------------------------------------------------------------------------------

def run_import(job_id: int) -> str:
    """Run (or resume) one import job to the end. Returns the job's final status, or "busy" when
    another runner holds it, or "" when there is nothing to do."""
    settings = get_settings()
    with psycopg.connect(libpq_url(settings.database.url)) as conn:
        for statement in q.SESSION_SETTINGS:
            conn.execute(statement)
        if not conn.execute(q.LOCK_JOB, {"key": q.LOCK_KEY, "job_id": job_id}).fetchone()[0]:
            conn.rollback()
            return "busy"
        job = conn.execute(q.LOAD_JOB, {"job_id": job_id}).fetchone()
        if job is None or conn.execute(q.START_JOB, {"job_id": job_id}).fetchone() is None:
            conn.rollback()
            return ""
        conn.commit()
        columns = ("id", "status", "mode", "filename", "stored_name", "file_format", "encoding", "delimiter",
                   "headers", "mapping", "list_id", "suppress_reason", "total", "processed", "created_by")
        loader = _Loader(conn, dict(zip(columns, job)), settings.imports.upload_dir, settings.imports.chunk_rows)
        import_progress.publish(job_id)
        try:
            return loader.run()
        except UnreadableFile as exc:
            return loader.fail(str(exc))
        except Exception as exc:
            conn.rollback()
            conn.execute(q.NOTE_ERROR, {"job_id": job_id, "error": f"Interrupted, will retry: {exc}"[:2000]})
            conn.commit()
            raise


def give_up(job_id: int, attempts: int) -> None:
    """Mark a job failed after its last retry, keeping the last error for the report."""
    with psycopg.connect(libpq_url(get_settings().database.url)) as conn:
        conn.execute(q.GIVE_UP, {"job_id": job_id, "attempts": attempts})
    import_progress.publish(job_id)


class _Loader:
    def __init__(self, conn: psycopg.Connection, job: dict[str, Any], upload_dir: Path, chunk_rows: int) -> None:
        self.conn, self.job, self.chunk_rows = conn, job, max(1, chunk_rows)
        self.path = upload_dir / job["stored_name"]
        self.processed = job["processed"]

    def fail(self, error: str) -> str:
        self.conn.rollback()
        self.conn.execute(q.FAIL_JOB, {"job_id": self.job["id"], "error": error[:2000]})
        self.conn.commit()
        import_progress.publish(self.job["id"])
        return "failed"

    def run(self) -> str:
        job = self.job
        if not self.path.exists():
            return self.fail("The uploaded file is no longer there (is the upload directory shared with the workers?).")
        if job["mode"] == ImportMode.LIST and not self.conn.execute(q.STATIC_LIST, {"list_id": job["list_id"]}).fetchone():
            return self.fail("The list to add the contacts to was deleted, or is not a static list.")
        fmt = FileFormat(job["file_format"], job["encoding"], job["delimiter"])
        converter = RowConverter(job["mapping"], job["mode"], len(job["headers"]))
        reader = _Reader(RecordReader(self.path, fmt), converter, self.processed, self.chunk_rows, job["total"])
        self.statements = self._statements(converter)
        self.conn.execute(q.CREATE_STAGE)
        self.conn.execute(q.CREATE_SEEN)
        self.conn.commit()
        reader.start()
        try:
            while (item := reader.chunks.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                self._load(item)
        finally:
            reader.stop.set()
        finished = self.conn.execute(q.FINISH_JOB, {"job_id": job["id"]}).fetchone()
        self.conn.commit()
        if finished is not None and job["mode"] in (ImportMode.ADD, ImportMode.UPSERT, ImportMode.LIST):
            self.conn.execute("ANALYZE contacts")  # the contacts page's row estimate, right away
            self.conn.commit()
        self.path.unlink(missing_ok=True)
        import_progress.publish(job["id"])
        return "done"

    def _statements(self, converter: RowConverter) -> dict[str, Any]:
        mode = self.job["mode"]
        if mode in (ImportMode.ADD, ImportMode.LIST):
            return {"contacts": q.count_written(q.insert_contacts(converter.mapped, update=False))}
        if mode == ImportMode.UPSERT:
            return {"contacts": q.count_written(q.insert_contacts(converter.mapped, update=True))}
        return {}

    def _load(self, chunk: Chunk) -> None:
        job, cur = self.job, self.conn.cursor()
        staged = len(chunk.rows)
        if chunk.rows:
            with cur.copy(q.COPY_STAGE) as copy:
                for row in chunk.rows:
                    copy.write_row(row)
            for line, email, first in cur.execute(q.KEEP_FIRST).fetchall():
                staged -= 1
                chunk.duplicates += 1
                reason = f"Same address as line {first}." if first else "Same address as an earlier row."
                chunk.rejects.append((line, "duplicate", email, reason, _cells_json(chunk.cells[line])))
        if chunk.replay:
            self.conn.commit()
            return
        counts = self._apply(cur) if staged else Counts()
        if chunk.rejects:
            with cur.copy(q.COPY_REJECTS) as copy:
                for reject in chunk.rejects:
                    copy.write_row((job["id"], *reject))
        rejected = len(chunk.rejects) - chunk.duplicates
        skipped = staged - counts.inserted - counts.updated + chunk.duplicates
        advanced = cur.execute(q.ADVANCE_JOB, {
            "job_id": job["id"], "expected": self.processed, "records": chunk.records, "inserted": counts.inserted,
            "updated": counts.updated, "skipped": skipped, "duplicates": chunk.duplicates, "rejected": rejected,
            "total": chunk.estimated_total,
        }).fetchone()
        if advanced is None:
            raise RuntimeError(f"import job {job['id']} changed under this runner; giving up this run")
        self.conn.commit()
        self.processed += chunk.records
        import_progress.publish(job["id"])

    def _apply(self, cur: psycopg.Cursor) -> Counts:
        job, mode = self.job, self.job["mode"]
        source = f"import: {job['filename']}"[:200]
        if mode == ImportMode.UNSUBSCRIBE:
            return Counts(updated=cur.execute(q.UNSUBSCRIBE).fetchone()[0])
        if mode == ImportMode.SUPPRESS:
            params = {"reason": job["suppress_reason"] or "manual", "source": source, "created_by": job["created_by"]}
            return Counts(inserted=cur.execute(q.SUPPRESS, params).fetchone()[0])
        inserted, updated = cur.execute(self.statements["contacts"]).fetchone()
        if mode == ImportMode.LIST:
            added = cur.execute(q.ADD_TO_LIST, {"list_id": job["list_id"], "source": source}).fetchone()[0]
            return Counts(inserted=inserted, updated=added - inserted)
        return Counts(inserted=inserted, updated=updated)

