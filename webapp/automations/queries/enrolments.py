"""Contacts entering, leaving and moving through automations, set-based: enrolling is one
INSERT ... SELECT whatever the number of contacts, with the re-entry rule and mailability in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import Automation, AutomationEnrolment, EnrolmentStatus
from webapp.core.cursors import Part, decode_cursor, encode_cursor
from webapp.core.db import rows_changed

# A contact that may receive marketing mail: active, not unsubscribed, bounced or complained (nor
# still unconfirmed), and its address not on the suppression list (as campaigns' audiences).
MAILABLE = (
    "c.is_active AND c.status = 'active' "
    "AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = c.email_hash)"
)

# Re-entry: a contact never has two active runs of one automation (ux_automation_enrolments_active);
# `once` lets nobody in twice, `always` lets a finished contact in again, `every_n_days` when its
# last entry was at least N days ago. Racing triggers collide on the unique indexes: nothing happens.
ENROL = """
INSERT INTO automation_enrolments (automation_id, version_id, contact_id, run, step_id, due_at, enrolled_at)
SELECT :automation_id, :version_id, c.id, coalesce(prev.runs, 0) + 1, :step_id, CAST(:now AS timestamptz),
       CAST(:now AS timestamptz)
FROM contacts c
LEFT JOIN LATERAL (
    SELECT max(e.run) AS runs, max(e.enrolled_at) AS last_at, bool_or(e.status = 'active') AS active
    FROM automation_enrolments e WHERE e.automation_id = :automation_id AND e.contact_id = c.id
) prev ON true
WHERE c.id = ANY(CAST(:contact_ids AS bigint[])) AND {mailable}
  AND NOT coalesce(prev.active, false)
  AND (prev.runs IS NULL
       OR CAST(:reentry AS text) = 'always'
       OR (CAST(:reentry AS text) = 'every_n_days'
           AND prev.last_at <= CAST(:now AS timestamptz) - make_interval(days => :reentry_days)))
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class Entry:
    automation_id: int
    version_id: int
    first_step_id: str
    reentry: str
    reentry_days: int


async def enrol(session: AsyncSession, entry: Entry, contact_ids: Sequence[int], now: datetime) -> int:
    """New runs on the first step, due at once (the engine works out a wait's end on arrival)."""
    params = {
        "automation_id": entry.automation_id,
        "version_id": entry.version_id,
        "step_id": entry.first_step_id,
        "reentry": entry.reentry,
        "reentry_days": entry.reentry_days,
        "contact_ids": list(contact_ids),
        "now": now,
    }
    statement = text(ENROL.format(mailable=MAILABLE))
    return rows_changed(await session.execute(statement, params))


FINISH = text("""
UPDATE automation_enrolments
SET status = :status, exit_reason = :reason, finished_at = CAST(:now AS timestamptz)
WHERE automation_id = :automation_id AND status = 'active'
  AND (CAST(:contact_ids AS bigint[]) IS NULL OR contact_id = ANY(CAST(:contact_ids AS bigint[])))
""")


async def finish(
    session: AsyncSession,
    automation_id: int,
    contact_ids: Sequence[int] | None,
    *,
    status: EnrolmentStatus,
    reason: str,
    now: datetime,
) -> int:
    """End the active runs of these contacts (None: of everyone) in the automation; each keeps the
    step it left from."""
    params = {
        "automation_id": automation_id,
        "contact_ids": None if contact_ids is None else list(contact_ids),
        "status": status.value,
        "reason": reason,
        "now": now,
    }
    return rows_changed(await session.execute(FINISH, params))


ENROLMENT_KEY = (Part.ID,)


def is_enrolment_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *ENROLMENT_KEY) is not None


@dataclass(frozen=True)
class EnrolmentPage:
    enrolments: list[AutomationEnrolment]
    next_cursor: str | None


async def find(
    session: AsyncSession, automation_id: int, *, status: str | None, limit: int, cursor: str | None
) -> EnrolmentPage:
    """Newest first by id, read from ix_automation_enrolments_automation_status_id."""
    query = select(AutomationEnrolment).where(AutomationEnrolment.automation_id == automation_id)
    if status is not None:
        query = query.where(AutomationEnrolment.status == status)
    if after := decode_cursor(cursor, *ENROLMENT_KEY):
        query = query.where(AutomationEnrolment.id < after[0])
    rows = list(await session.scalars(query.order_by(AutomationEnrolment.id.desc()).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    return EnrolmentPage(rows, encode_cursor(rows[-1].id) if more and rows else None)


@dataclass(frozen=True)
class ContactRun:
    automation_id: int
    automation_name: str
    run: int
    status: str
    exit_reason: str | None
    enrolled_at: datetime
    finished_at: datetime | None


async def runs_of_contact(session: AsyncSession, contact_id: int, limit: int) -> list[ContactRun]:
    """The contact's latest runs through automations, from ix_automation_enrolments_contact_id."""
    rows = await session.execute(
        select(
            Automation.id,
            Automation.name,
            AutomationEnrolment.run,
            AutomationEnrolment.status,
            AutomationEnrolment.exit_reason,
            AutomationEnrolment.enrolled_at,
            AutomationEnrolment.finished_at,
        )
        .join(Automation, Automation.id == AutomationEnrolment.automation_id)
        .where(AutomationEnrolment.contact_id == contact_id)
        .order_by(AutomationEnrolment.id.desc())
        .limit(limit)
    )
    return [ContactRun(*row) for row in rows]


MOVE_KEPT = text("""
UPDATE automation_enrolments SET version_id = :new_version
WHERE version_id = :old_version AND status = 'active' AND step_id = ANY(CAST(:step_ids AS text[]))
""")


async def move_kept(session: AsyncSession, old_version: int, new_version: int, step_ids: Sequence[str]) -> None:
    """Enrolments on steps the new version also has: same step, same due time, new version."""
    params = {"old_version": old_version, "new_version": new_version, "step_ids": list(step_ids)}
    await session.execute(MOVE_KEPT, params)


ON_STEP = text("""
SELECT id FROM automation_enrolments
WHERE version_id = :version_id AND status = 'active' AND step_id = :step_id
FOR UPDATE
""")


async def on_step(session: AsyncSession, version_id: int, step_id: str) -> list[int]:
    """The active enrolments on a step, locked (the engine skips them while they are moved)."""
    return list(await session.scalars(ON_STEP, {"version_id": version_id, "step_id": step_id}))


STEPS_IN_USE = text("""
SELECT DISTINCT step_id FROM automation_enrolments WHERE version_id = :version_id AND status = 'active'
""")


async def steps_in_use(session: AsyncSession, version_id: int) -> list[str]:
    return list(await session.scalars(STEPS_IN_USE, {"version_id": version_id}))


STEP_COUNTS = text("""
SELECT step_id, 'waiting' AS what, count(*) FROM automation_enrolments
WHERE automation_id = :automation_id AND status = 'active' GROUP BY step_id
UNION ALL
SELECT step_id, 'exited', count(*) FROM automation_enrolments
WHERE automation_id = :automation_id AND status IN ('exited', 'removed') AND step_id IS NOT NULL GROUP BY step_id
UNION ALL
SELECT r.step_id, r.outcome, count(*) FROM automation_step_runs r
JOIN automation_enrolments e ON e.id = r.enrolment_id
WHERE e.automation_id = :automation_id GROUP BY r.step_id, r.outcome
""")


async def step_counts(session: AsyncSession, automation_id: int) -> list[tuple[str, str, int]]:
    """(step id, what, how many): waiting (active on it), exited (left from it: unmailable,
    archived or removed), and each step-run outcome (done, skipped, branched_yes, branched_no, goal)."""
    rows = await session.execute(STEP_COUNTS, {"automation_id": automation_id})
    return [(step_id, what, count) for step_id, what, count in rows]


TOTALS = text("""
SELECT automation_id, count(*), count(*) FILTER (WHERE status = 'active') FROM automation_enrolments
WHERE automation_id = ANY(CAST(:ids AS bigint[])) GROUP BY automation_id
""")


async def totals(session: AsyncSession, automation_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(enrolments ever, active now) per automation."""
    rows = await session.execute(TOTALS, {"ids": list(automation_ids)})
    return {automation_id: (enrolled, active) for automation_id, enrolled, active in rows}
