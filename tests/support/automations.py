"""Arranging automations for tests: contacts inserted set-based, an automation published with a
given flow, and its enrolments read back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import automations

MANUAL = {"kind": "manual"}


async def new_contacts(session: AsyncSession, count: int, prefix: str = "c", **columns: Any) -> list[int]:
    """`count` contacts <prefix><i>@example.com with `columns` set (e.g. status="bounced"); their ids."""
    assignments = "".join(f", {name} = :{name}" for name in columns)
    ids = list(
        await session.scalars(
            text("""INSERT INTO contacts (email) SELECT :prefix || i || '@example.com' FROM generate_series(1, :n) i
                    RETURNING id"""),
            {"prefix": prefix, "n": count},
        )
    )
    if columns:
        await session.execute(
            text(f"UPDATE contacts SET id = id{assignments} WHERE id = ANY(:ids)"), {"ids": ids, **columns}
        )
    return ids


async def published(session: AsyncSession, steps: list[dict], **fields: Any) -> int:
    """An active automation (manual trigger unless given) whose first version has these steps."""
    automation = await automations.create(session, {"name": "Welcome", "trigger": MANUAL, "steps": steps, **fields})
    await automations.publish(session, automation.id)
    await session.commit()
    return automation.id


async def enrolments(session: AsyncSession, automation_id: int) -> list[dict]:
    rows = await session.execute(
        text("SELECT * FROM automation_enrolments WHERE automation_id = :a ORDER BY contact_id, run"),
        {"a": automation_id},
    )
    await session.commit()
    return [dict(row) for row in rows.mappings()]


async def step_runs(session: AsyncSession, automation_id: int) -> list[tuple[int, str, str]]:
    """(contact id, step id, outcome) of every step run, in order."""
    rows = await session.execute(
        text("""SELECT e.contact_id, r.step_id, r.outcome FROM automation_step_runs r
                JOIN automation_enrolments e ON e.id = r.enrolment_id
                WHERE e.automation_id = :a ORDER BY e.contact_id, r.at, r.step_id"""),
        {"a": automation_id},
    )
    await session.commit()
    return [tuple(row) for row in rows]
