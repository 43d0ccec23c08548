"""Running an import job: what the worker's actor calls (and bench/import.py, directly).

A reading process cuts the file into chunks (chunks.py: parse, validate, take out repeated
addresses, COPY text), the calling thread hands them on, and MAILROOM_IMPORT_LOADERS loader
threads, each with its own connection, load chunks side by side. Each chunk is one transaction:
COPY into a temporary staging table, one set-based statement for the mode, the chunk's rejected and
repeated rows, and the job's counters with the chunk's number added to `loaded_chunks`. Progress is
published on Redis after each commit. Memory stays at a few chunks whatever the size of the file
(and the reading process keeps a digest and a line number per address, for the repeats).

Safe to run twice: an advisory lock (held by the calling thread's connection for the whole run)
lets one runner at a time work on a job, and a rerun after a crash reads the whole file again (the
loaded chunks' addresses still count as seen for the repeats) and loads the other chunks, so
nothing is written or counted twice (a chunk already in `loaded_chunks` is rolled back, whoever
tries).
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from webapp.core.config import get_settings
from webapp.core.validation import MAX_TAGS, TOO_MANY_TAGS
from webapp.imports.models import ImportMode
from webapp.imports.queries import load as queries
from webapp.imports.queries import runs
from webapp.imports.queries.load import ContactsStatement
from webapp.imports.queries.runs import ChunkCounts, Connection, Cursor, JobToRun
from webapp.imports.service import progress as import_progress
from webapp.imports.service.chunks import Chunk, refused
from webapp.imports.service.files import CSV, FileFormat, UnreadableFile
from webapp.imports.service.reading import read_chunks
from webapp.imports.service.rows import RowConverter
from webapp.suppression.models import SuppressionReason

MAX_ERROR_LENGTH = 2000  # of the error kept on the job, for its page
SOURCE_MAX_LENGTH = 200  # of the source recorded with a subscription or suppression ("import: <file>")
HAND_OVER_WAIT = 0.5  # seconds between checks, while a queue is full or empty, that the other side is alive
WRITES_CONTACTS = (ImportMode.ADD, ImportMode.UPSERT, ImportMode.LIST)


class _Done:
    """Put on the chunk queue once per loader after the last chunk."""


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def connect() -> Connection:
    conn = psycopg.connect(libpq_url(get_settings().database.url))
    runs.tune_session(conn)
    conn.commit()
    return conn


def run_import(job_id: int) -> str:
    """Run (or resume) one import job to the end. Returns "done" or "failed", "busy" when another
    runner holds the job, or "" when there is nothing to do."""
    settings = get_settings().imports
    with connect() as conn:
        if not runs.try_lock(conn, job_id):
            conn.rollback()
            return "busy"
        job = runs.start(conn, job_id, settings.chunk_rows)
        if job is None:
            conn.rollback()
            return ""
        conn.commit()
        import_progress.publish(job_id)
        run = _Run(conn, job, settings.upload_dir / job.stored_name, max(1, settings.loaders))
        try:
            return run.go()
        except UnreadableFile as exc:
            return run.fail(str(exc))
        except Exception as exc:
            conn.rollback()
            runs.note_error(conn, job_id, f"{runs.RETRYING}{exc}"[:MAX_ERROR_LENGTH])
            conn.commit()
            raise


def give_up(job_id: int, attempts: int) -> None:
    """Mark a job failed after its last retry, keeping the last error for the report."""
    with connect() as conn:
        runs.give_up(conn, job_id, attempts)
    import_progress.publish(job_id)


class _Run:
    def __init__(self, conn: Connection, job: JobToRun, path: Path, loaders: int) -> None:
        self.conn, self.job, self.path, self.loaders = conn, job, path, loaders
        self.chunks: queue.Queue[Chunk | _Done] = queue.Queue(1)
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

    def fail(self, error: str) -> str:
        self.conn.rollback()
        runs.fail(self.conn, self.job.id, error[:MAX_ERROR_LENGTH])
        self.conn.commit()
        import_progress.publish(self.job.id)
        return "failed"

    def go(self) -> str:
        job = self.job
        if not self.path.exists():
            return self.fail("The uploaded file is no longer there (is the upload directory shared with the workers?).")
        if job.mode == ImportMode.LIST and not runs.is_static_list(self.conn, job.list_id):
            return self.fail("The list to add the contacts to was deleted, or is not a static list.")
        converter = RowConverter(job.mapping, job.mode, len(job.headers))
        fmt = FileFormat(job.file_format, job.encoding, job.delimiter)
        size, loaded, records = self.path.stat().st_size, set(job.loaded_chunks), 0
        statement = _contacts_statement(job.mode, converter.mapped)
        threads = [
            threading.Thread(
                target=self._loader, args=(statement, converter.columns), name=f"import-loader-{n}", daemon=True
            )
            for n in range(self.loaders)
        ]
        for thread in threads:
            thread.start()
        try:
            for chunk in read_chunks(self.path, fmt, converter, job.chunk_rows):
                records += chunk.records
                if chunk.number in loaded:
                    continue  # loaded by an earlier run, which counted it
                chunk.estimated_total = _estimate(fmt, size, chunk.position, records, job.total)
                self._hand_over(chunk)
            for _ in threads:
                self._hand_over(_Done())
        except BaseException:
            self.stop.set()  # loaders finish the chunk in hand and stop
            raise
        finally:
            for thread in threads:
                thread.join()
        if self.errors:
            raise self.errors[0]
        if not runs.finish(self.conn, job.id, records):
            raise RuntimeError(f"import job {job.id}: the loaded chunks do not add up to the file's rows")
        self.conn.commit()
        if job.mode in WRITES_CONTACTS:
            runs.analyze_contacts(self.conn)
            self.conn.commit()
        self.path.unlink(missing_ok=True)
        import_progress.publish(job.id)
        return "done"

    def _hand_over(self, item: Chunk | _Done) -> None:
        while True:
            if self.errors:
                raise self.errors[0]
            try:
                self.chunks.put(item, timeout=HAND_OVER_WAIT)
                return
            except queue.Full:
                continue

    def _loader(self, statement: ContactsStatement | None, columns: list[str]) -> None:
        try:
            with connect() as conn:
                queries.create_stage(conn)
                conn.commit()
                while not self.stop.is_set():
                    try:
                        item = self.chunks.get(timeout=HAND_OVER_WAIT)
                    except queue.Empty:
                        continue
                    if isinstance(item, _Done):
                        return
                    self._load(conn, statement, columns, item)
        except BaseException as exc:
            self.errors.append(exc)
            self.stop.set()

    def _load(self, conn: Connection, statement: ContactsStatement | None, columns: list[str], chunk: Chunk) -> None:
        job, cur = self.job, conn.cursor()
        inserted = updated = 0
        if chunk.staged:
            queries.stage(cur, columns, chunk.payload)
            if chunk.tagged_cells:
                self._refuse_over_tag_limit(cur, chunk)
            inserted, updated = self._apply(cur, statement)
        if chunk.rejects:
            queries.save_rejects(cur, job.id, chunk.rejects)
        counts = ChunkCounts(
            records=chunk.records,
            inserted=inserted,
            updated=updated,
            skipped=chunk.staged - chunk.refused - inserted - updated + chunk.duplicates,
            duplicates=chunk.duplicates,
            rejected=len(chunk.rejects) - chunk.duplicates,
            estimated_total=chunk.estimated_total,
        )
        if not runs.advance(cur, job.id, chunk.number, counts):
            conn.rollback()
            raise RuntimeError(f"import job {job.id}: chunk {chunk.number} was loaded by another runner")
        conn.commit()
        import_progress.publish(job.id)

    @staticmethod
    def _refuse_over_tag_limit(cur: Cursor, chunk: Chunk) -> None:
        """Reject the staged rows whose tags would take their contact past MAX_TAGS."""
        for line, email, tags in queries.take_over_tag_limit(cur, MAX_TAGS):
            reason = f"With this row's tags the contact would have {tags}. {TOO_MANY_TAGS}"
            chunk.rejects.append(refused(line, chunk.tagged_cells[line], email, reason))
            chunk.refused += 1

    def _apply(self, cur: Cursor, statement: ContactsStatement | None) -> tuple[int, int]:
        """(inserted, updated) for the staged rows of one chunk."""
        job = self.job
        source = f"import: {job.filename}"[:SOURCE_MAX_LENGTH]
        if job.mode == ImportMode.UNSUBSCRIBE:
            return 0, queries.unsubscribe(cur, source, job.created_by)
        if job.mode == ImportMode.SUPPRESS:
            reason = job.suppress_reason or SuppressionReason.MANUAL.value
            return queries.suppress(cur, reason, source, job.created_by), 0
        if statement is None:
            raise RuntimeError(f"import job {job.id}: mode {job.mode!r} writes no contacts")
        inserted, updated = queries.write_contacts(cur, statement)
        if job.mode == ImportMode.LIST:
            added = queries.add_to_list(cur, job.list_id, source)
            return inserted, added - inserted
        return inserted, updated


def _estimate(fmt: FileFormat, size: int, position: int, records: int, estimated_before: int) -> int:
    """The rows in the file, from how far reading has got (a CSV file), else what is known so far."""
    if fmt.kind == CSV and 0 < position < size:
        return int(records * size / position)
    return max(estimated_before, records)


def _contacts_statement(mode: str, mapped: set[str]) -> ContactsStatement | None:
    """The statement that writes a chunk's contacts, for the modes that write contacts."""
    if mode not in WRITES_CONTACTS:
        return None
    return queries.write_contacts_statement(mapped, update=mode == ImportMode.UPSERT)
