"""Apply the opens and clicks the web process has buffered, as the event worker does, so a test can
check what they changed right after making them (a hit is in the stream before its answer is sent)."""

from __future__ import annotations

import asyncio
import os
import time

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from webapp.tracking.service import hits


async def apply_events(consumer: str = "tests") -> int:
    """Apply every buffered hit, batch after batch, until none is left; how many there were.
    Its own Redis client and engine, so it also runs from run_db in browser tests."""
    redis = Redis.from_url(os.environ["REDIS_URL"])
    engine = create_async_engine(os.environ["DATABASE_URL"], poolclass=NullPool)
    try:
        await hits.ensure_group(redis)
        total = 0
        while applied := await hits.apply_next(redis, async_sessionmaker(engine), consumer, None):
            total += applied
        return total
    finally:
        await redis.aclose()
        await engine.dispose()


async def wait_for_events(db, count: int, timeout: float = 60.0) -> None:
    """Until a worker process has stored `count` events (polling the table, up to `timeout`)."""
    deadline = time.monotonic() + timeout
    while (stored := await db.scalar(text("SELECT count(*) FROM email_events"))) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{stored} events stored after {timeout}s, expected {count}")
        await asyncio.sleep(0.1)
