"""Running an import job: what the worker's actor calls (and bench/import.py, directly).

The calling thread reads the file into chunks (import_chunks.py: parse, validate, take out repeated
addresses, COPY text) while MAILROOM_IMPORT_LOADERS loader threads, each with its own connection,
load chunks side by side. Each chunk is one transaction: COPY into a temporary staging table, one
set-based statement for the mode, the chunk's rejected and repeated rows, and the job's counters
with the chunk's number added to `loaded_chunks`. Progress is published on Redis after each commit.
Memory stays at a few chunks whatever the size of the file.

Safe to run twice: an advisory lock (held by the calling thread's connection for the whole run)
lets one runner at a time work on a job, and a rerun after a crash reads the file again, feeds the
loaded chunks' addresses to the repeat check only, and loads the other chunks, so nothing is
written or counted twice (a chunk already in `loaded_chunks` is rolled back, whoever tries).
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from webapp.core.config import get_settings
from webapp.imports.models import ImportMode
from webapp.imports.queries import load as q
from webapp.imports.service import progress as import_progress
from webapp.imports.service.chunks import Chunk, Chunker
from webapp.imports.service.files import FileFormat, RecordReader, UnreadableFile
from webapp.imports.service.rows import RowConverter

_DONE = object()


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def connect() -> psycopg.Connection:
    conn = psycopg.connect(libpq_url(get_settings().database.url))
    for statement in q.SESSION_SETTINGS:
        conn.execute(statement)
    conn.commit()
    return conn


def run_import(job_id: int) -> str:
    """Run (or resume) one import job to the end. Returns "done" or "failed", "busy" when another
    runner holds the job, or "" when there is nothing to do."""
    settings = get_settings().imports
    with connect() as conn:
        if not conn.execute(q.LOCK_JOB, {"key": q.LOCK_KEY, "job_id": job_id}).fetchone()[0]:
            conn.rollback()
            return "busy"
        row = conn.execute(q.LOAD_JOB, {"job_id": job_id}).fetchone()
        started = row and conn.execute(q.START_JOB, {"job_id": job_id, "chunk_rows": settings.chunk_rows}).fetchone()
        if not started:
            conn.rollback()
            return ""
        conn.commit()
        job = dict(zip(q.JOB_COLUMNS, row, strict=True))
        job["chunk_rows"], job["loaded_chunks"] = started
        import_progress.publish(job_id)
        run = _Run(conn, job, settings.upload_dir / job["stored_name"], max(1, settings.loaders))
        try:
            return run.go()
        except UnreadableFile as exc:
            return run.fail(str(exc))
        except Exception as exc:
            conn.rollback()
            conn.execute(q.NOTE_ERROR, {"job_id": job_id, "error": f"Interrupted, will retry: {exc}"[:2000]})
            conn.commit()
            raise


def give_up(job_id: int, attempts: int) -> None:
    """Mark a job failed after its last retry, keeping the last error for the report."""
    with connect() as conn:
        conn.execute(q.GIVE_UP, {"job_id": job_id, "attempts": attempts})
    import_progress.publish(job_id)


class _Run:
    def __init__(self, conn: psycopg.Connection, job: dict[str, Any], path: Path, loaders: int) -> None:
        self.conn, self.job, self.path, self.loaders = conn, job, path, loaders
        self.chunks: queue.Queue[Any] = queue.Queue(1)
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

    def fail(self, error: str) -> str:
        self.conn.rollback()
        self.conn.execute(q.FAIL_JOB, {"job_id": self.job["id"], "error": error[:2000]})
        self.conn.commit()
        import_progress.publish(self.job["id"])
        return "failed"

    def go(self) -> str:
        job = self.job
        if not self.path.exists():
            return self.fail("The uploaded file is no longer there (is the upload directory shared with the workers?).")
        if (
            job["mode"] == ImportMode.LIST
            and not self.conn.execute(q.STATIC_LIST, {"list_id": job["list_id"]}).fetchone()
        ):
            return self.fail("The list to add the contacts to was deleted, or is not a static list.")
        converter = RowConverter(job["mapping"], job["mode"], len(job["headers"]))
        reader = RecordReader(self.path, FileFormat(job["file_format"], job["encoding"], job["delimiter"]))
        chunker = Chunker(self.conn, reader, converter, job["chunk_rows"], job["loaded_chunks"], job["total"])
        statement = _contacts_statement(job["mode"], converter.mapped)
        threads = [
            threading.Thread(target=self._loader, args=(statement,), name=f"import-loader-{n}", daemon=True)
            for n in range(self.loaders)
        ]
        for thread in threads:
            thread.start()
        try:
            for chunk in chunker:
                self._hand_over(chunk)
            for _ in threads:
                self._hand_over(_DONE)
        except BaseException:
            self.stop.set()  # loaders finish the chunk in hand and stop
            raise
        finally:
            for thread in threads:
                thread.join()
        if self.errors:
            raise self.errors[0]
        if self.conn.execute(q.FINISH_JOB, {"job_id": job["id"], "records": chunker.records}).fetchone() is None:
            raise RuntimeError(f"import job {job['id']}: the loaded chunks do not add up to the file's rows")
        self.conn.commit()
        if job["mode"] in (ImportMode.ADD, ImportMode.UPSERT, ImportMode.LIST):
            self.conn.execute("ANALYZE contacts")  # the contacts page's row estimate, right away
            self.conn.commit()
        self.path.unlink(missing_ok=True)
        import_progress.publish(job["id"])
        return "done"

    def _hand_over(self, item: Any) -> None:
        while True:
            if self.errors:
                raise self.errors[0]
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _loader(self, statement: Any) -> None:
        try:
            with connect() as conn:
                conn.execute(q.CREATE_STAGE)
                conn.commit()
                while not self.stop.is_set():
                    try:
                        item = self.chunks.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    if item is _DONE:
                        return
                    self._load(conn, statement, item)
        except BaseException as exc:
            self.errors.append(exc)
            self.stop.set()

    def _load(self, conn: psycopg.Connection, statement: Any, chunk: Chunk) -> None:
        job, cur = self.job, conn.cursor()
        inserted = updated = 0
        if chunk.staged:
            with cur.copy(q.COPY_STAGE) as copy:
                copy.write(chunk.payload)
            inserted, updated = self._apply(cur, statement)
        if chunk.rejects:
            with cur.copy(q.COPY_REJECTS) as copy:
                for reject in chunk.rejects:
                    copy.write_row((job["id"], *reject))
        advanced = cur.execute(
            q.ADVANCE_JOB,
            {
                "job_id": job["id"],
                "chunk": chunk.number,
                "records": chunk.records,
                "inserted": inserted,
                "updated": updated,
                "skipped": chunk.staged - inserted - updated + chunk.duplicates,
                "duplicates": chunk.duplicates,
                "rejected": len(chunk.rejects) - chunk.duplicates,
                "total": chunk.estimated_total,
            },
        ).fetchone()
        if advanced is None:
            conn.rollback()
            raise RuntimeError(f"import job {job['id']}: chunk {chunk.number} was loaded by another runner")
        conn.commit()
        import_progress.publish(job["id"])

    def _apply(self, cur: psycopg.Cursor, statement: Any) -> tuple[int, int]:
        """(inserted, updated) for the staged rows of one chunk."""
        job, mode = self.job, self.job["mode"]
        source = f"import: {job['filename']}"[:200]
        if mode == ImportMode.UNSUBSCRIBE:
            return 0, cur.execute(q.UNSUBSCRIBE).fetchone()[0]
        if mode == ImportMode.SUPPRESS:
            params = {"reason": job["suppress_reason"] or "manual", "source": source, "created_by": job["created_by"]}
            return cur.execute(q.SUPPRESS, params).fetchone()[0], 0
        inserted, updated = cur.execute(statement).fetchone()
        if mode == ImportMode.LIST:
            added = cur.execute(q.ADD_TO_LIST, {"list_id": job["list_id"], "source": source}).fetchone()[0]
            return inserted, added - inserted
        return inserted, updated


def _contacts_statement(mode: str, mapped: set[str]) -> Any:
    if mode in (ImportMode.ADD, ImportMode.LIST):
        return q.count_written(q.insert_contacts(mapped, update=False))
    if mode == ImportMode.UPSERT:
        return q.count_written(q.insert_contacts(mapped, update=True))
    return None
