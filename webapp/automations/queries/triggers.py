"""The SQL of triggers: the active automations a signal may enrol into, and the scheduled triggers'
evaluation, set-based: who reached a date, who has not opened for N days, who entered a segment.
Days are UTC days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, delete, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import AutomationSegmentMember, AutomationTriggerCheck
from webapp.contacts.models import Contact

ACTIVE = text("""
SELECT a.id, a.trigger, c.checked_at
FROM automations a LEFT JOIN automation_trigger_checks c ON c.automation_id = a.id
WHERE a.status = 'active' AND a.trigger ->> 'kind' = ANY(CAST(:kinds AS text[]))
ORDER BY a.id
""")

# A date field's value as a date, NULL when it holds none: a custom field is text that may be
# anything (pg_input_is_valid, PostgreSQL 16, keeps a malformed one from failing the statement).
CUSTOM_DATE = """CASE WHEN pg_input_is_valid(left(c.custom_fields ->> CAST(:custom AS text), 10), 'date')
     THEN CAST(left(c.custom_fields ->> CAST(:custom AS text), 10) AS date) END"""
COLUMN_DATE = "CAST(c.{column} AT TIME ZONE 'UTC' AS date)"

# Contacts whose date, moved by the offset, is the day: that day, or (yearly) its month and day in
# any year; a 29 February counts on 28 February in other years.
ON_DAY = """
SELECT c.id FROM contacts c
CROSS JOIN LATERAL (SELECT {value} + CAST(:offset_days AS int) AS due, CAST(:day AS date) AS day) d
WHERE d.due IS NOT NULL AND CASE
  WHEN CAST(:yearly AS boolean) THEN to_char(d.due, 'MM-DD') = to_char(d.day, 'MM-DD')
    OR (to_char(d.due, 'MM-DD') = '02-29' AND to_char(d.day, 'MM-DD') = '02-28'
        AND to_char(d.day + 1, 'MM-DD') = '03-01')
  ELSE d.due = d.day END
ORDER BY c.id
"""

# Contacts sent the campaign N days ago (in the window since the last evaluation) who have made no
# human open of it (analytics_engagement_firsts keeps each message's first human open).
NOT_OPENED_CAMPAIGN = text("""
SELECT DISTINCT d.contact_id FROM deliveries d
WHERE d.campaign_id = :campaign_id AND d.contact_id IS NOT NULL
  AND d.sent_at > CAST(:since AS timestamptz) - make_interval(days => :days)
  AND d.sent_at <= CAST(:until AS timestamptz) - make_interval(days => :days)
  AND NOT EXISTS (SELECT 1 FROM analytics_engagement_firsts f WHERE f.delivery_id = d.id AND f.what = 'human_opened')
ORDER BY d.contact_id
""")

# Contacts whose last open was N days ago (in the window since the last evaluation): they have
# opened nothing since.
NOT_OPENED_SINCE = text("""
SELECT id FROM contacts
WHERE last_opened > CAST(:since AS timestamptz) - make_interval(days => :days)
  AND last_opened <= CAST(:until AS timestamptz) - make_interval(days => :days)
ORDER BY id
""")


# Queued signals, oldest first, taken (deleted) by the transaction that applies them; parallel
# ticks skip each other's.
TAKE_QUEUED = text("""
DELETE FROM automation_signals WHERE id IN (
  SELECT id FROM automation_signals ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
)
RETURNING id, kind, params, contact_ids
""")


@dataclass(frozen=True)
class Queued:
    id: int
    kind: str
    params: dict[str, Any]
    contact_ids: list[int]


async def take_queued(session: AsyncSession, limit: int) -> list[Queued]:
    rows = await session.execute(TAKE_QUEUED, {"limit": limit})
    return sorted((Queued(*row) for row in rows), key=lambda q: q.id)


@dataclass(frozen=True)
class Triggered:
    id: int
    trigger: dict[str, Any]
    checked_at: datetime | None  # scheduled triggers: the last evaluation (None: never)


async def active(session: AsyncSession, kinds: Sequence[str]) -> list[Triggered]:
    """Active automations with a trigger of these kinds."""
    return [Triggered(*row) for row in await session.execute(ACTIVE, {"kinds": list(kinds)})]


async def on_day(session: AsyncSession, field: str, offset_days: int, yearly: bool, day: date) -> list[int]:
    """Contacts whose date field plus offset_days is `day` (yearly: its month and day)."""
    custom = field.removeprefix("custom.") if field.startswith("custom.") else None
    value = CUSTOM_DATE if custom is not None else COLUMN_DATE.format(column=field)  # a checked column name
    statement = text(ON_DAY.format(value=value))
    values = {"offset_days": offset_days, "yearly": yearly, "day": day, "custom": custom}
    return list(await session.scalars(statement, values))


async def not_opened(
    session: AsyncSession, days: int, campaign_id: int | None, since: datetime, until: datetime
) -> list[int]:
    values = {"days": days, "since": since, "until": until}
    if campaign_id is None:
        return list(await session.scalars(NOT_OPENED_SINCE, values))
    return list(await session.scalars(NOT_OPENED_CAMPAIGN, {**values, "campaign_id": campaign_id}))


async def segment_entries(session: AsyncSession, automation_id: int, members: ColumnElement[bool]) -> list[int]:
    """Keep the segment's members now for the automation; those who were not members at the last look."""
    now_in = select(Contact.id).where(members)
    left = delete(AutomationSegmentMember).where(
        AutomationSegmentMember.automation_id == automation_id, AutomationSegmentMember.contact_id.not_in(now_in)
    )
    await session.execute(left)
    entered = (
        insert(AutomationSegmentMember)
        .from_select(
            ["automation_id", "contact_id"], select(literal(automation_id, BigInteger), Contact.id).where(members)
        )
        .on_conflict_do_nothing()
        .returning(AutomationSegmentMember.contact_id)
    )
    return sorted(await session.scalars(entered))


async def checked(session: AsyncSession, automation_id: int, at: datetime, problem: str = "") -> None:
    """Record the evaluation of the automation's scheduled trigger at `at`, and why it enrolled nobody."""
    statement = insert(AutomationTriggerCheck).values(automation_id=automation_id, checked_at=at, problem=problem)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["automation_id"],
            set_={"checked_at": statement.excluded.checked_at, "problem": statement.excluded.problem},
        )
    )


async def last_check(session: AsyncSession, automation_id: int) -> AutomationTriggerCheck | None:
    # `checked` upserts past the ORM, so a copy this session still holds may be out of date.
    return await session.get(AutomationTriggerCheck, automation_id, populate_existing=True)
