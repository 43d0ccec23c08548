"""Database engine and session factory, shared by the web app and the worker."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from webapp.core.config import get_settings
from webapp.core.models import load_all_models


@lru_cache
def get_engine() -> AsyncEngine:
    settings = get_settings().database
    if not settings.url:
        raise RuntimeError("DATABASE_URL is not set (run through `mailroom dev` to get an embedded database)")
    return create_async_engine(settings.url, pool_size=settings.pool_size, pool_pre_ping=True, echo=settings.echo)


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    # A flush orders inserts by foreign keys, which needs every table in the metadata, also in a
    # process (a worker) that never imported some feature's models.
    load_all_models()
    return async_sessionmaker(get_engine(), expire_on_commit=False)


@lru_cache
def get_report_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """Sessions for reports and analytics: on the replica (DATABASE_REPLICA_URL) when there is one,
    which may lag the primary by a moment; otherwise the primary's."""
    settings = get_settings().database
    if not settings.replica_url:
        return get_sessionmaker()
    engine = create_async_engine(
        settings.replica_url, pool_size=settings.pool_size, pool_pre_ping=True, echo=settings.echo
    )
    return async_sessionmaker(engine, expire_on_commit=False)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE changed (session.execute types it as a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount
