"""Dependencies shared by every controller."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import get_report_sessionmaker, get_sessionmaker

Db = NamedDependency[AsyncSession]  # a handler's `db`: the request's session (or a report session, see below)


async def provide_db_session() -> AsyncGenerator[AsyncSession, None]:
    """One transaction per request: committed after the handler, rolled back if it raised."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


async def provide_report_session() -> AsyncGenerator[AsyncSession, None]:
    """For the report and analytics routes, which only read: a session on the replica when one is
    configured (see get_report_sessionmaker), never committed."""
    async with get_report_sessionmaker()() as session:
        yield session


# The dependencies of a controller that only reads reports: its `db` is a report session.
REPORT_DEPENDENCIES = {"db": Provide(provide_report_session)}


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"
