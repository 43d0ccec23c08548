"""The kernel's own SQL: whether the database answers (the health check)."""

from __future__ import annotations

from sqlalchemy import text

from webapp.core.db import get_engine


async def ping() -> None:
    """Raises if the database cannot run a trivial statement."""
    async with get_engine().connect() as conn:
        await conn.execute(text("SELECT 1"))
