"""email_events is partitioned by month on its time column (`at`): a partition per UTC month,
email_events_pYYYYMM, created ahead of time, dropped whole once the month has passed out of the
retention period; and a default partition, email_events_other, for the odd event dated outside
every month (a provider's report with a wrong clock), whose old rows are deleted instead."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PARENT = "email_events"
DEFAULT_PARTITION = "email_events_other"
MONTHLY = re.compile(r"^email_events_p(\d{4})(\d{2})$")

PARTITIONS = text("""
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = CAST('email_events' AS regclass)
""")

# Creating or dropping a partition locks the whole table: wait for a batch in progress, but never
# long enough to hold the event worker up (the next maintenance run tries again).
LOCK_TIMEOUT = text("SET LOCAL lock_timeout = '5s'")

DELETE_OLD_OUTLIERS = text(f"DELETE FROM {DEFAULT_PARTITION} WHERE at < :before")


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_p{month.year:04d}{month.month:02d}"


def create_partition_sql(month: date) -> str:
    """Made only from a date's numbers: nothing from outside reaches the statement."""
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') TO ('{next_month(month).isoformat()} 00:00:00+00')"
    )


def create_default_sql() -> str:
    return f"CREATE TABLE IF NOT EXISTS {DEFAULT_PARTITION} PARTITION OF {PARENT} DEFAULT"


async def monthly_partitions(session: AsyncSession) -> dict[date, str]:
    """The month each monthly partition holds, and its name."""
    found = {}
    for name in await session.scalars(PARTITIONS):
        if match := MONTHLY.match(name):
            found[date(int(match[1]), int(match[2]), 1)] = name
    return found


async def create(session: AsyncSession, months: list[date]) -> None:
    await session.execute(LOCK_TIMEOUT)
    for month in months:
        await session.execute(text(create_partition_sql(month)))


async def drop(session: AsyncSession, names: list[str]) -> None:
    await session.execute(LOCK_TIMEOUT)
    for name in names:
        if not MONTHLY.match(name):  # a name read from the catalog, checked again before DDL
            raise ValueError(f"not an events partition: {name!r}")
        await session.execute(text(f"DROP TABLE {name}"))


async def delete_old_outliers(session: AsyncSession, before: datetime) -> None:
    await session.execute(DELETE_OLD_OUTLIERS, {"before": before})
