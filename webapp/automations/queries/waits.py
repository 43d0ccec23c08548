"""When a contact's wait ends, as SQL over the contact row `c`: the due_at an enrolment gets when
it arrives at a step. A wait step ends after its duration, at a date field plus an offset, or at
the next of its weekdays at its time; any other step is due at once (`:now`).

Dates and weekdays are in the contact's time zone: its custom field `timezone` when that names a
zone PostgreSQL knows, else the step's `timezone` (UTC by default). A date field that is missing or
not a date, or a moment already past, ends the wait at once. Field names are bound parameters or
picked from a fixed table here; nothing a user typed becomes SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CONTACT_ZONE = (
    "CASE WHEN c.custom_fields ->> 'timezone' = ANY(:zones) THEN c.custom_fields ->> 'timezone' ELSE :wait_zone END"
)
# Contact columns a wait may count from (schemas/flow.py DATE_FIELDS); custom fields hold text.
DATE_COLUMNS = {"date_added": "c.date_added", "last_opened": "c.last_opened", "last_clicked": "c.last_clicked"}
CUSTOM_DATE = (
    "(CASE WHEN pg_input_is_valid(left(c.custom_fields ->> :wait_field, 10), 'date') "
    "THEN CAST(left(c.custom_fields ->> :wait_field, 10) AS date) END)"
)


@dataclass(frozen=True)
class DueAt:
    """An SQL expression for due_at and its parameters; `per_contact` when it reads the contact."""

    sql: str
    params: dict[str, Any]
    per_contact: bool = False


NOW = DueAt("CAST(:now AS timestamptz)", {})


def due_at(step: dict[str, Any] | None, zones: list[str]) -> DueAt:
    if step is None or step["type"] != "wait":
        return NOW
    zone_params = {"zones": zones, "wait_zone": step.get("timezone") or "UTC"}
    if "duration" in step:
        d = step["duration"]
        minutes = d.get("days", 0) * 1440 + d.get("hours", 0) * 60 + d.get("minutes", 0)
        return DueAt("CAST(:now AS timestamptz) + make_interval(mins => :wait_minutes)", {"wait_minutes": minutes})
    if "until_field" in step:
        field, offset = step["until_field"], step.get("offset_days", 0)
        if field in DATE_COLUMNS:
            moment = f"{DATE_COLUMNS[field]} + make_interval(days => :wait_offset)"
            params: dict[str, Any] = {"wait_offset": offset}
        else:
            day = f"({CUSTOM_DATE} + :wait_offset)"
            moment = f"CAST({day} AS timestamp) AT TIME ZONE ({CONTACT_ZONE})"
            params = {"wait_offset": offset, "wait_field": field.removeprefix("custom."), **zone_params}
        return DueAt(f"GREATEST(CAST(:now AS timestamptz), {moment})", params, per_contact=True)
    # The first of the next eight days (today included) that is one of the weekdays, at the time,
    # still ahead: always found, since every weekday comes round within a week.
    sql = f"""(SELECT min(k.at) FROM (
        SELECT (date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE z.zone) + make_interval(days => d)
                + CAST(:wait_time AS time)) AT TIME ZONE z.zone AS at, z.zone
        FROM generate_series(0, 7) AS d, (SELECT {CONTACT_ZONE} AS zone) AS z) AS k
      WHERE k.at > CAST(:now AS timestamptz)
        AND CAST(extract(isodow FROM k.at AT TIME ZONE k.zone) AS int) = ANY(:wait_weekdays))"""
    params = {"wait_time": step["time"], "wait_weekdays": step["weekdays"], **zone_params}
    return DueAt(sql, params, per_contact=True)


_zones: list[str] = []


async def zone_names(session: AsyncSession) -> list[str]:
    """The time zones PostgreSQL knows (read once per process: the view reads the zone files)."""
    if not _zones:
        _zones.extend(await session.scalars(text("SELECT name FROM pg_timezone_names")))
    return _zones
