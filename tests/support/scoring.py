"""Contacts, rules and events for the scoring tests, arranged through the services (and, for the
event log, as the event worker stores events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.scoring.service import rules


async def contact(db: AsyncSession, email: str, **profile: str) -> int:
    columns = ", ".join(["email", *profile])
    values = ", ".join([":email", *(f":{name}" for name in profile)])
    return await db.scalar(
        text(f"INSERT INTO contacts ({columns}) VALUES ({values}) RETURNING id"), {"email": email, **profile}
    )


async def rule(db: AsyncSession, event: str, points: int, **more) -> int:
    return (await rules.create(db, {"name": f"{event} {points}", "event": event, "points": points, **more})).id


async def score_row(db: AsyncSession, contact_id: int) -> dict | None:
    row = (
        (
            await db.execute(
                text(
                    "SELECT score, grade, stage, reached_stage, stage_override, engagement, adjustments, completeness, "
                    "recency FROM contact_scores WHERE contact_id = :c"
                ),
                {"c": contact_id},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def history(db: AsyncSession, contact_id: int) -> list[tuple[int, int, str]]:
    """(score, change, reason) oldest first."""
    rows = await db.execute(
        text("SELECT score, change, reason FROM score_history WHERE contact_id = :c ORDER BY id"), {"c": contact_id}
    )
    return [tuple(row) for row in rows]


async def email_event(db: AsyncSession, contact_id: int, kind: str, at: datetime, *, machine: bool = False) -> None:
    await db.execute(
        text("INSERT INTO email_events (contact_id, kind, at, machine) VALUES (:c, :k, :at, :m)"),
        {"c": contact_id, "k": kind, "at": at, "m": machine},
    )
