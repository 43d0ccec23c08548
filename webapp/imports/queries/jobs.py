"""Import jobs and their rejected rows, as the pages and the API read them (keyset pages by line),
and the housekeeping of jobs nobody runs: drafts never started, runs whose worker died."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.imports.models import ImportJob, ImportReject, ImportStatus
from webapp.imports.queries.runs import LOCK_KEY

# Custom field names in use, for the mapping menu: read from the newest contacts only, so the page
# costs the same with a million contacts (an older, rarer name can still be typed in).
CUSTOM_KEYS = text("""
SELECT DISTINCT k FROM (SELECT custom_fields FROM contacts ORDER BY id DESC LIMIT :newest) AS c,
  jsonb_object_keys(c.custom_fields) AS k
ORDER BY k LIMIT :keys
""")
CUSTOM_KEYS_NEWEST = 5000  # contacts looked at
CUSTOM_KEYS_MAX = 200  # names offered


async def custom_keys(session: AsyncSession) -> list[str]:
    return list(await session.scalars(CUSTOM_KEYS, {"newest": CUSTOM_KEYS_NEWEST, "keys": CUSTOM_KEYS_MAX}))


async def recent_jobs(session: AsyncSession, limit: int) -> Sequence[ImportJob]:
    query = select(ImportJob).order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def rejects_page(
    session: AsyncSession, job_id: int, after_line: int, limit: int
) -> tuple[list[ImportReject], int | None]:
    """Rows after `after_line`, in file order, and the line to continue after (None on the last page)."""
    rows = list(
        await session.scalars(
            select(ImportReject)
            .where(ImportReject.job_id == job_id, ImportReject.line > after_line)
            .order_by(ImportReject.line)
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].line if more and rows else None)


async def delete_stale_drafts(session: AsyncSession, hours: int) -> list[str]:
    """Delete drafts nobody started within `hours`; their stored file names, for removing the files."""
    result = await session.execute(
        delete(ImportJob)
        .where(
            ImportJob.status == ImportStatus.DRAFT.value,
            ImportJob.created_at < text("now() - make_interval(hours => :hours)").bindparams(hours=hours),
        )
        .returning(ImportJob.stored_name)
    )
    return list(result.scalars())


# Jobs whose runner is gone: queued or running, not held by any session's advisory lock (a runner
# holds it for the whole run; a dead worker's connection drops it), and not moved for a while.
# Their updated_at is bumped so each is handed out once per grace period. pg_locks shows a
# two-key advisory lock as classid = first key, objid = second key, objsubid = 2.
CLAIM_STALLED = text(f"""
UPDATE import_jobs j SET updated_at = now()
WHERE j.status IN ('queued', 'running') AND j.updated_at < now() - make_interval(secs => :grace)
  AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = {LOCK_KEY}
                  AND l.objid = j.id AND l.objsubid = 2)
RETURNING j.id
""")


async def claim_stalled(session: AsyncSession, grace_seconds: int) -> list[int]:
    return list(await session.scalars(CLAIM_STALLED, {"grace": grace_seconds}))
