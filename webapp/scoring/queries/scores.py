"""The SQL of contacts' scores besides computing them: points given by hand, manual stages, one
contact's score and history, the leaderboard and the lifecycle distribution."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.scoring.models import ContactScore, ScoreHistory

ADJUST = text("""
INSERT INTO contact_scores AS s (contact_id, score, grade, reached_stage, stage, adjustments)
SELECT id, 0, 'F', 'subscriber', 'subscriber', :points FROM contacts WHERE id = ANY(:ids) ORDER BY id
ON CONFLICT (contact_id) DO UPDATE SET adjustments = s.adjustments + EXCLUDED.adjustments
RETURNING contact_id
""")


async def adjust(session: AsyncSession, contact_ids: Sequence[int], points: int) -> list[int]:
    """Add points to the contacts' adjustments (made first when missing); the contacts that exist."""
    found = await session.scalars(ADJUST, {"ids": sorted(set(contact_ids)), "points": points})
    return list(found)


async def set_override(session: AsyncSession, contact_id: int, stage: str | None) -> None:
    """The manual stage (None clears it) on a locked row; the next refresh shows it and records it."""
    await session.execute(
        update(ContactScore).where(ContactScore.contact_id == contact_id).values(stage_override=stage)
    )


async def of_contact(session: AsyncSession, contact_id: int) -> ContactScore | None:
    return await session.get(ContactScore, contact_id)


async def history(
    session: AsyncSession, contact_id: int, before_id: int | None, limit: int | None
) -> list[ScoreHistory]:
    """The contact's changes, latest first, from ix_score_history_contact_id_id (keyset by id)."""
    query = select(ScoreHistory).where(ScoreHistory.contact_id == contact_id)
    if before_id is not None:
        query = query.where(ScoreHistory.id < before_id)
    return list(await session.scalars(query.order_by(ScoreHistory.id.desc()).limit(limit)))


async def leaderboard(
    session: AsyncSession, after: tuple[int, int] | None, limit: int, stage: str | None, grade: str | None
) -> list[tuple[ContactScore, Contact]]:
    """Highest score first (ties: newest contact first), a page after the (score, contact_id) given,
    walking ix_contact_scores_score_contact_id backwards."""
    query = select(ContactScore, Contact).join(Contact, Contact.id == ContactScore.contact_id)
    if after is not None:
        query = query.where(tuple_(ContactScore.score, ContactScore.contact_id) < tuple_(*after))
    if stage is not None:
        query = query.where(ContactScore.stage == stage)
    if grade is not None:
        query = query.where(ContactScore.grade == grade)
    rows = await session.execute(query.order_by(ContactScore.score.desc(), ContactScore.contact_id.desc()).limit(limit))
    return [(score, contact) for score, contact in rows]


async def stage_counts(session: AsyncSession) -> dict[str, int]:
    """Contacts per stage; contacts never scored are subscribers."""
    rows = await session.execute(select(ContactScore.stage, func.count()).group_by(ContactScore.stage))
    counted = dict(rows.all())
    unscored = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(~select(ContactScore.contact_id).where(ContactScore.contact_id == Contact.id).exists())
    )
    counted["subscriber"] = counted.get("subscriber", 0) + (unscored or 0)
    return counted
