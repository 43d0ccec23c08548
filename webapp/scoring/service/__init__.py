"""Contacts' scores: kept up to date as events arrive (`refresh`, `score_email_events`), given by
hand or by automations (`add_points`), recomputed for everyone each night (`recompute_all`), a
manual lifecycle stage (`set_stage`), and reading them.

Every change goes through `refresh`, which returns the contacts whose score, grade or stage
changed: the one place the score_changed and lifecycle_changed automation triggers hook into."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import triggers
from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.cursors import Part, decode_cursor, encode_cursor
from webapp.core.schemas import load
from webapp.scoring.models import ContactScore, ScoreHistory
from webapp.scoring.queries import refresh as computing
from webapp.scoring.queries import scores as queries
from webapp.scoring.schemas import STAGE_LABELS, PointsIn, ScoreChanged, StageIn, ThresholdsIn
from webapp.scoring.service import settings

LEADERBOARD_PAGE = 50
HISTORY_PAGE = 50


async def refresh(session: AsyncSession, contact_ids: Sequence[int] | None, reason: str) -> list[ScoreChanged]:
    """Score these contacts (None: everyone) again from all they did; those whose score, grade or
    stage changed."""
    if contact_ids is not None and not contact_ids:
        return []
    changed = await computing.refresh(
        session, contact_ids, await settings.thresholds(session), datetime.now(UTC), reason
    )
    await _trigger_automations(session, changed)
    return changed


async def _trigger_automations(session: AsyncSession, changed: Sequence[ScoreChanged]) -> None:
    """Automations triggered by a score, grade or stage reached enrol these contacts, in this
    transaction (skipped whole when no active automation listens)."""
    listening = await triggers.listening(session, ["score_changed", "lifecycle_changed"]) if changed else set()
    if "score_changed" in listening:
        moved = [c for c in changed if (c.score, c.grade) != (c.old_score, c.old_grade)]
        await triggers.signal(
            session,
            "score_changed",
            [c.contact_id for c in moved],
            scores={c.contact_id: c.score for c in moved},
            grades={c.contact_id: c.grade for c in moved},
            old_scores={c.contact_id: c.old_score for c in moved},
            old_grades={c.contact_id: c.old_grade for c in moved},
        )
    if "lifecycle_changed" in listening:
        by_stage: dict[str, list[int]] = defaultdict(list)
        for c in changed:
            if c.stage != c.old_stage:
                by_stage[c.stage].append(c.contact_id)
        for stage, ids in by_stage.items():
            await triggers.signal(session, "lifecycle_changed", ids, stage=stage)


async def score_email_events(
    session: AsyncSession, event_ids: Sequence[int], between: tuple[datetime, datetime]
) -> list[ScoreChanged]:
    """After the event worker stored these email_events rows (made between the two times): score the
    contacts who opened or clicked (machine opens and scanner clicks change nothing)."""
    if not event_ids:
        return []
    engaged = await computing.engaged_contacts(session, event_ids, *between)
    return await refresh(session, engaged, "Opened or clicked an email")


async def recalculate(session: AsyncSession, contact_id: int, reason: str) -> list[ScoreChanged]:
    """One contact's score again, now (after a rule changed, say)."""
    await contacts.get_contact(session, contact_id)
    return await refresh(session, [contact_id], reason)


async def add_points(session: AsyncSession, contact_ids: Sequence[int], points: int, reason: str) -> list[ScoreChanged]:
    """Give (or, negative, take) points to these contacts, kept through every recompute; set-based."""
    existing = await queries.adjust(session, contact_ids, points)
    return await refresh(session, existing, reason)


async def give_points(session: AsyncSession, contact_id: int, data: Mapping[str, Any]) -> list[ScoreChanged]:
    """Points from a form or the API (points and reason checked)."""
    values = load(PointsIn, data)
    await contacts.get_contact(session, contact_id)
    return await add_points(session, [contact_id], values["points"], values["reason"])


async def recompute_all(session: AsyncSession) -> list[ScoreChanged]:
    """Every contact's score from scratch (the nightly run: recency decays, rules changed)."""
    return await refresh(session, None, "Nightly recompute")


async def set_stage(session: AsyncSession, contact_id: int, data: Mapping[str, Any], by: str) -> list[ScoreChanged]:
    """A manual lifecycle stage that sticks until cleared (stage null or blank clears it)."""
    stage = load(StageIn, data)["stage"]
    await contacts.get_contact(session, contact_id)
    await computing.lock(session, [contact_id])
    await queries.set_override(session, contact_id, stage)
    reason = f"Stage set to {STAGE_LABELS[stage]} by {by}" if stage else f"Manual stage cleared by {by}"
    return await refresh(session, [contact_id], reason)


@dataclass(frozen=True)
class Score:
    """A contact's score as shown; a contact never scored has score 0, grade F, stage subscriber."""

    contact_id: int
    score: int
    grade: str
    stage: str
    stage_override: str | None
    engagement: int
    adjustments: int
    completeness: int
    recency: int
    last_activity_at: datetime | None
    updated_at: datetime | None


async def score_of(session: AsyncSession, contact_id: int) -> Score:
    await contacts.get_contact(session, contact_id)
    row = await queries.of_contact(session, contact_id)
    if row is None:
        return Score(contact_id, 0, "F", "subscriber", None, 0, 0, 0, 0, None, None)
    return Score(
        contact_id,
        row.score,
        row.grade,
        row.stage,
        row.stage_override,
        row.engagement,
        row.adjustments,
        row.completeness,
        row.recency,
        row.last_activity_at,
        row.updated_at,
    )


@dataclass(frozen=True)
class HistoryPage:
    changes: list[ScoreHistory]
    next_cursor: str | None  # stands for the last change's id


async def history(session: AsyncSession, contact_id: int, cursor: str | None = None) -> HistoryPage:
    """The contact's score changes, latest first, a page older than the cursor's."""
    await contacts.get_contact(session, contact_id)
    before = decode_cursor(cursor, Part.ID)
    rows = await queries.history(session, contact_id, before[0] if before else None, HISTORY_PAGE + 1)
    more, rows = len(rows) > HISTORY_PAGE, rows[:HISTORY_PAGE]
    return HistoryPage(rows, encode_cursor(rows[-1].id) if more else None)


def is_history_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, Part.ID) is not None


@dataclass(frozen=True)
class LeaderboardPage:
    rows: list[tuple[ContactScore, Contact]]
    next_cursor: str | None


async def leaderboard(
    session: AsyncSession,
    after: tuple[int, int] | None = None,
    stage: str | None = None,
    grade: str | None = None,
    limit: int = LEADERBOARD_PAGE,
) -> LeaderboardPage:
    """The highest scores first, a page after (score, contact_id)."""
    rows = await queries.leaderboard(session, after, limit + 1, stage, grade)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if more else None
    return LeaderboardPage(rows, encode_cursor(last.score, last.contact_id) if last else None)


def leaderboard_key(cursor: str | None) -> tuple[int, int] | None:
    """The (score, contact_id) a leaderboard cursor stands for; None for the first page."""
    key = decode_cursor(cursor, Part.INTEGER, Part.ID)
    return (key[0], key[1]) if key else None


def is_leaderboard_cursor(cursor: str) -> bool:
    return leaderboard_key(cursor) is not None


async def lifecycle(session: AsyncSession) -> dict[str, int]:
    """Contacts per lifecycle stage, every stage in order (0 where none)."""
    counted = await queries.stage_counts(session)
    return {stage: counted.get(stage, 0) for stage in STAGE_LABELS}


async def save_thresholds(session: AsyncSession, data: Mapping[str, Any]) -> None:
    """New thresholds (ValidationFailed naming the field); scores move to them at the next recompute."""
    await settings.save(session, load(ThresholdsIn, data))


async def export_of(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    """The contact's score and every change of it, for their data export."""
    score = await score_of(session, contact_id)
    changes = await queries.history(session, contact_id, None, None)
    return {
        "score": score.score,
        "grade": score.grade,
        "lifecycle_stage": score.stage,
        "stage_set_by_hand": score.stage_override is not None,
        "history": [
            {"at": h.at, "score": h.score, "change": h.change, "grade": h.grade, "stage": h.stage, "reason": h.reason}
            for h in reversed(changes)
        ],
    }
