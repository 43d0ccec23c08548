"""An import run's statements about its job, on the loader's psycopg connections
(service/loader.py): the job's advisory lock, and its row as the run moves it from queued to done
or failed, a chunk's counters at a time.

The counters of a chunk are added in the chunk's own transaction (`advance`), so the row always
says what has been written, and `loaded_chunks` tells a rerun which chunks to skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import class_row

Connection = psycopg.Connection[tuple[Any, ...]]
Cursor = psycopg.Cursor[tuple[Any, ...]]

LOCK_KEY = 0x1A0B  # advisory lock namespace of import jobs: (LOCK_KEY, job id)

# The loader's own session: each chunk's commit need not wait for the WAL flush (a crash loses at
# most the last chunks, job checkpoint included, and the rerun loads them again), and GIN index
# maintenance (tags, search, custom fields) merges its pending entries in bigger batches.
SESSION_SETTINGS = ("SET synchronous_commit = off", "SET work_mem = '64MB'")


def tune_session(conn: Connection) -> None:
    for statement in SESSION_SETTINGS:
        conn.execute(statement)


def try_lock(conn: Connection, job_id: int) -> bool:
    """Take the job's advisory lock for as long as `conn` lives; False when another runner has it."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_KEY, job_id)).fetchone()
    return bool(row and row[0])


@dataclass
class JobToRun:
    """What a run needs of its job."""

    id: int
    mode: str
    filename: str
    stored_name: str
    file_format: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: list[str]
    list_id: int | None
    suppress_reason: str
    total: int
    created_by: str
    chunk_rows: int
    loaded_chunks: list[int] = field(default_factory=list)


# The chunk size is fixed at the first start, so a rerun cuts the file at the same rows.
START = """
UPDATE import_jobs SET status = 'running', started_at = coalesce(started_at, now()), error = '',
  chunk_rows = CASE WHEN chunk_rows > 0 THEN chunk_rows ELSE %(chunk_rows)s END, updated_at = now()
WHERE id = %(job_id)s AND status IN ('queued', 'running')
RETURNING id, mode, filename, stored_name, file_format, encoding, delimiter, headers, mapping, list_id,
  suppress_reason, total, created_by, chunk_rows, loaded_chunks
"""


def start(conn: Connection, job_id: int, chunk_rows: int) -> JobToRun | None:
    """Mark a queued (or interrupted) job running; None when it is not waiting to run."""
    with conn.cursor(row_factory=class_row(JobToRun)) as cur:
        return cur.execute(START, {"job_id": job_id, "chunk_rows": chunk_rows}).fetchone()


# Loaders commit chunks in any order; a chunk already recorded (by another runner) makes this match
# nothing, and the loader rolls back.
ADVANCE = """
UPDATE import_jobs SET loaded_chunks = array_append(loaded_chunks, %(chunk)s), processed = processed + %(records)s,
  inserted = inserted + %(inserted)s, updated = updated + %(updated)s, skipped = skipped + %(skipped)s,
  duplicates = duplicates + %(duplicates)s, rejected = rejected + %(rejected)s,
  total = greatest(%(total)s, processed + %(records)s), updated_at = now()
WHERE id = %(job_id)s AND status = 'running' AND NOT %(chunk)s = ANY(loaded_chunks)
RETURNING id
"""


@dataclass(frozen=True)
class ChunkCounts:
    """One chunk's outcome, added to the job's counters."""

    records: int  # rows of the file in the chunk
    inserted: int
    updated: int
    skipped: int  # duplicates included
    duplicates: int
    rejected: int
    estimated_total: int  # the file's rows, as far as reading has got


def advance(cur: Cursor, job_id: int, chunk: int, counts: ChunkCounts) -> bool:
    """Add a chunk's counts, in the chunk's transaction; False when the chunk was recorded already."""
    params = {
        "job_id": job_id,
        "chunk": chunk,
        "records": counts.records,
        "inserted": counts.inserted,
        "updated": counts.updated,
        "skipped": counts.skipped,
        "duplicates": counts.duplicates,
        "rejected": counts.rejected,
        "total": counts.estimated_total,
    }
    return cur.execute(ADVANCE, params).fetchone() is not None


FINISH = """
UPDATE import_jobs SET status = 'done', total = processed, finished_at = now(), updated_at = now()
WHERE id = %(job_id)s AND status = 'running' AND processed = %(records)s
RETURNING id
"""


def finish(conn: Connection, job_id: int, records: int) -> bool:
    """Mark the job done; False unless the loaded chunks add up to the file's `records` rows."""
    return conn.execute(FINISH, {"job_id": job_id, "records": records}).fetchone() is not None


def fail(conn: Connection, job_id: int, error: str) -> None:
    conn.execute(
        "UPDATE import_jobs SET status = 'failed', error = %(error)s, finished_at = now(), updated_at = now() "
        "WHERE id = %(job_id)s AND status IN ('queued', 'running')",
        {"job_id": job_id, "error": error},
    )


RETRYING = "Interrupted, will retry: "  # how the error of an attempt that will be retried starts


def note_error(conn: Connection, job_id: int, error: str) -> None:
    """Keep the error of an attempt that will be retried (RETRYING ...), for the job page and give_up."""
    conn.execute(
        "UPDATE import_jobs SET error = %(error)s, updated_at = now() WHERE id = %(job_id)s",
        {"job_id": job_id, "error": error},
    )


# The last attempt's error (noted by note_error) stays in the message, reworded.
GIVE_UP = """
UPDATE import_jobs SET status = 'failed', finished_at = now(), updated_at = now(),
  error = 'Stopped after ' || %(attempts)s::text || ' attempts. ' || replace(error, %(retrying)s, 'Last error: ')
WHERE id = %(job_id)s AND status IN ('queued', 'running')
"""


def give_up(conn: Connection, job_id: int, attempts: int) -> None:
    conn.execute(GIVE_UP, {"job_id": job_id, "attempts": attempts, "retrying": RETRYING})


def is_static_list(conn: Connection, list_id: int | None) -> bool:
    row = conn.execute(
        "SELECT 1 FROM email_lists WHERE id = %(list_id)s AND list_type = 'static'", {"list_id": list_id}
    ).fetchone()
    return row is not None


def analyze_contacts(conn: Connection) -> None:
    """Fresh statistics after a big import, so the contacts page's row estimate is right at once."""
    conn.execute("ANALYZE contacts")
