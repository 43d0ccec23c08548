"""The engine's SQL: claiming due enrolments, recording step runs, and moving enrolments on. Every
statement takes a whole batch (arrays of ids), so a batch of thousands costs a few round trips."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, any_, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.queries.enrolments import MAILABLE
from webapp.automations.queries.waits import DueAt
from webapp.contacts.models import Contact


@dataclass(frozen=True)
class Claimed:
    id: int
    automation_id: int
    version_id: int
    step_id: str
    contact_id: int
    mailable: bool


Key = tuple[datetime, int]  # (due_at, id): where a run of batches has got to

# Due enrolments of active automations, oldest due first, locked until the claiming transaction
# ends; rows another worker holds are skipped, so workers never run the same enrolment at once.
# A paused automation's enrolments stay where they are (and are due again once it resumes).
# `after` is a run's keyset: the index entries of the rows its earlier batches finished stay until
# vacuum, and a claim starting from the first due entry would step over all of them each time.
# Nothing due is left behind it: what a batch places is due at `now` or later.
CLAIM = f"""
WITH due AS (
    SELECT e.id FROM automation_enrolments e
    WHERE e.status = 'active' AND e.due_at <= CAST(:now AS timestamptz) {{after}}
      AND EXISTS (SELECT 1 FROM automations a WHERE a.id = e.automation_id AND a.status = 'active')
    ORDER BY e.due_at, e.id
    LIMIT :limit
    FOR UPDATE OF e SKIP LOCKED
)
SELECT e.id, e.automation_id, e.version_id, e.step_id, e.contact_id, ({MAILABLE}) AS mailable, e.due_at
FROM due JOIN automation_enrolments e ON e.id = due.id JOIN contacts c ON c.id = e.contact_id
ORDER BY e.due_at, e.id
"""
AFTER = "AND (e.due_at, e.id) > (CAST(:after_due AS timestamptz), CAST(:after_id AS bigint))"


async def claim(
    session: AsyncSession, limit: int, now: datetime, after: Key | None
) -> tuple[list[Claimed], Key | None]:
    """The claimed enrolments and the key of the last one (None when nothing was due)."""
    params: dict[str, object] = {"limit": limit, "now": now}
    if after is not None:
        params |= {"after_due": after[0], "after_id": after[1]}
    rows = list(await session.execute(text(CLAIM.format(after=AFTER if after else "")), params))
    last = (rows[-1].due_at, rows[-1].id) if rows else None
    return [Claimed(*row[:6]) for row in rows], last


DUE = text("""
SELECT EXISTS (
    SELECT 1 FROM automation_enrolments e
    WHERE e.status = 'active' AND e.due_at <= CAST(:now AS timestamptz)
      AND EXISTS (SELECT 1 FROM automations a WHERE a.id = e.automation_id AND a.status = 'active'))
""")


async def any_due(session: AsyncSession, now: datetime) -> bool:
    return bool(await session.scalar(DUE, {"now": now}))


RECORD_RUNS = text("""
INSERT INTO automation_step_runs (enrolment_id, step_id, outcome, at)
SELECT unnest(CAST(:ids AS bigint[])), :step_id, :outcome, CAST(:now AS timestamptz)
ON CONFLICT DO NOTHING
RETURNING enrolment_id
""")


async def record_runs(
    session: AsyncSession, enrolment_ids: Sequence[int], step_id: str, outcome: str, now: datetime
) -> set[int]:
    """Record the step as run for these enrolments; those for which it is new (the others had run
    it already, e.g. before being moved to a new version, and must not get its effect again)."""
    params = {"ids": list(enrolment_ids), "step_id": step_id, "outcome": outcome, "now": now}
    return set(await session.scalars(RECORD_RUNS, params))


PLACE = """
UPDATE automation_enrolments e SET version_id = :version_id, step_id = :step_id, due_at = {due_at}
{contacts}
WHERE e.id = ANY(CAST(:ids AS bigint[])) {joined}
"""


async def place(
    session: AsyncSession, enrolment_ids: Sequence[int], version_id: int, step_id: str, due_at: DueAt, now: datetime
) -> None:
    """Put enrolments on a step, due when `due_at` says (a wait ends; any other step at once)."""
    contacts, joined = ("FROM contacts c", "AND c.id = e.contact_id") if due_at.per_contact else ("", "")
    statement = text(PLACE.format(due_at=due_at.sql, contacts=contacts, joined=joined))
    params = {"ids": list(enrolment_ids), "version_id": version_id, "step_id": step_id, "now": now, **due_at.params}
    await session.execute(statement, params)


# A completed run is on no step; one that exited or was removed keeps the step it left from (the
# builder counts exits per step).
FINISH = text("""
UPDATE automation_enrolments
SET status = CAST(:status AS text), exit_reason = :reason, finished_at = CAST(:now AS timestamptz),
    step_id = CASE WHEN CAST(:status AS text) = 'completed' THEN NULL ELSE step_id END
WHERE id = ANY(CAST(:ids AS bigint[]))
""")


async def finish(
    session: AsyncSession, enrolment_ids: Sequence[int], status: str, reason: str | None, now: datetime
) -> None:
    params = {"ids": list(enrolment_ids), "status": status, "reason": reason, "now": now}
    await session.execute(FINISH, params)


async def matching(session: AsyncSession, contact_ids: Sequence[int], condition: ColumnElement[bool]) -> set[int]:
    """Those of the contacts that a compiled segment condition matches."""
    query = select(Contact.id).where(Contact.id == any_(literal(list(contact_ids), ARRAY(BigInteger))), condition)
    return set(await session.scalars(query))


POSTPONE = text("""
UPDATE automation_enrolments SET due_at = CAST(:due_at AS timestamptz) WHERE id = ANY(CAST(:ids AS bigint[]))
""")


async def postpone(session: AsyncSession, enrolment_ids: Sequence[int], due_at: datetime) -> None:
    await session.execute(POSTPONE, {"ids": list(enrolment_ids), "due_at": due_at})
