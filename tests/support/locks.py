"""Waiting, in a test, until another transaction waits for a lock."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")


async def waiting_for_a_lock(db, timeout: float = 30.0, still_going: asyncio.Task | None = None) -> None:
    """Until a transaction in this test's database waits for a lock; still_going, if given, must
    neither finish nor fail meanwhile."""
    deadline = time.monotonic() + timeout
    # pg_stat_activity is read once per transaction and kept: clear it, or a poll that came first sees nothing ever.
    while not (await db.execute(text("SELECT pg_stat_clear_snapshot()")) and await db.scalar(WAITING)):
        if still_going is not None:
            assert not still_going.done(), still_going.result()
        assert time.monotonic() < deadline, "no transaction ever waited for a lock"
        await asyncio.sleep(0.05)
