"""Placement tests in the background, on a queue of their own: sending a test's copies (started by
the page or API that created the test), and polling the seeds of tests that wait (started by the
scheduler tick, every POLL_SECONDS per test, one poll of a test at a time across workers: a Redis
key held while it runs, expiring with the time limit should a worker die holding it). Both may run
twice: a copy is sent once (its row is locked and marked), and finding a copy again changes nothing."""

from __future__ import annotations

import dramatiq

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.delivery.placement_mail import Copy, send_copies
from webapp.placement.service import placement

QUEUE = "placement"
POLL_SECONDS = 60  # between two polls of a test's seeds
SEND_TIME_LIMIT_MS = 10 * 60_000
POLL_TIME_LIMIT_MS = 30 * 60_000  # a poll reads each seed for at most placement.SEED_SECONDS


def _running_key(test_id: int) -> str:
    return f"mailroom:placement:{test_id}:polling"


def _due_key(test_id: int) -> str:
    return f"mailroom:placement:{test_id}:polled"


@dramatiq.actor(queue_name=QUEUE, max_retries=3, time_limit=SEND_TIME_LIMIT_MS)
async def send_placement_copies(test_id: int) -> None:
    await send_copies_of(test_id)


async def send_copies_of(test_id: int) -> None:
    async with get_sessionmaker()() as session, session.begin():
        left = await placement.to_send(session, test_id)
        if left is None:
            return
        copies = [Copy(copy.token, copy.email) for copy in left.copies]
        failed = await send_copies(session, left.campaign, copies)
        await placement.record_sent(session, test_id, left, failed)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=POLL_TIME_LIMIT_MS)
async def poll_placement_test(test_id: int) -> None:
    await poll_and_release(test_id)


async def poll_and_release(test_id: int) -> None:
    """Poll once, then let the next due tick poll the test again."""
    try:
        async with get_sessionmaker()() as session, session.begin():
            await placement.poll(session, test_id)
    finally:
        await get_redis().delete(_running_key(test_id))


async def start_polls_if_due() -> None:
    """From the scheduler tick: a poll for each test to poll whose interval has passed."""
    async with get_sessionmaker()() as session:
        test_ids = await placement.tests_to_poll(session)
    redis = get_redis()
    for test_id in test_ids:
        if not await redis.set(_running_key(test_id), "1", nx=True, px=POLL_TIME_LIMIT_MS):
            continue
        if await redis.set(_due_key(test_id), "1", nx=True, ex=POLL_SECONDS):
            poll_placement_test.send(test_id)
        else:
            await redis.delete(_running_key(test_id))
