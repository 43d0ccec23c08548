"""The kernel's own SQL: whether the database answers (the health check), a time limit for
statements built from what a person typed, and pages of a table newest first."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from psycopg.errors import QueryCanceled
from sqlalchemy import Select, text, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from webapp.core.cursors import Part, decode_cursor, encode_cursor
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


NEWEST_FIRST = (Part.TIME, Part.ID)  # the shape of newest_first's cursors


async def newest_first(
    session: AsyncSession,
    query: Select[T],
    when: InstrumentedAttribute[Any],
    row_id: InstrumentedAttribute[int],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[T], str | None]:
    """Up to `limit` of the query's rows after `cursor`, newest first by (when, id), read from the
    index of that shape; and the next page's cursor, None on the last page. A cursor that is not
    one of these reads as the first page."""
    if after := decode_cursor(cursor, *NEWEST_FIRST):
        query = query.where(tuple_(when, row_id) < tuple_(*after))
    rows = list(await session.scalars(query.order_by(when.desc(), row_id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, when.key), getattr(last, row_id.key))
