"""The kernel's own SQL: whether the database answers (the health check), and a time limit for
statements built from what a person typed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from psycopg.errors import QueryCanceled
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import get_engine


async def ping() -> None:
    """Raises if the database cannot run a trivial statement."""
    async with get_engine().connect() as conn:
        await conn.execute(text("SELECT 1"))


class TooSlow(Exception):
    """A statement ran past its time limit, and the database stopped it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"took longer than {seconds:g} s")
        self.seconds = seconds


T = TypeVar("T")

_SET_TIMEOUT = text("SELECT set_config('statement_timeout', :value, true)")  # for the transaction only


@contextlib.asynccontextmanager
async def time_limit(session: AsyncSession, seconds: float) -> AsyncIterator[None]:
    """PostgreSQL stops each statement of the block after `seconds` (TooSlow), for queries built from
    what a person typed (segment rules). The session's transaction goes on either way: the block
    is a savepoint, and the limit ends with it."""
    try:
        async with session.begin_nested():
            before = await session.scalar(text("SELECT current_setting('statement_timeout')"))
            await session.execute(_SET_TIMEOUT, {"value": f"{int(seconds * 1000)}ms"})
            yield
            await session.execute(_SET_TIMEOUT, {"value": before})
    except DBAPIError as exc:
        if isinstance(exc.orig, QueryCanceled):
            raise TooSlow(seconds) from exc
        raise


async def within_time_limit(session: AsyncSession, seconds: float, work: Awaitable[T]) -> T | None:
    """What `work` returns, or None when one of its statements ran past `seconds` (time_limit)."""
    try:
        async with time_limit(session, seconds):
            return await work
    except TooSlow:
        return None
