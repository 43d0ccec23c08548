"""The automations' background work: running due steps, and checking the triggers nothing signals.

The scheduler tick starts up to RUNNERS runs of due steps at once (a Redis key per slot, held while
it runs, so runs never pile up); each run claims and runs batches until nothing is due or its time
is up, and the next tick carries on. Long waits are rows with a due time, never delayed messages.

A batch that fails (a step's effect raised) is rolled back whole, so it is run again one enrolment
at a time: those that fail alone are tried again RETRY_MINUTES later, and the others go on; one
broken step never holds up every automation behind it.

The triggers nothing signals (a date, not opened, a segment entered) are checked by one job at a
time, also started by the tick, out of the tick itself: a segment's rules may take their time."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import dramatiq

from webapp.automations.service import engine, triggers
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)

QUEUE = "automations"
RUNNERS = 2  # runs at once across all workers: the database does the work, two keep it busy
BATCH_SIZE = 5000
TIME_LIMIT_MS = 10 * 60_000
RUN_SECONDS = 5 * 60  # then stop claiming, well inside the time limit
SLOT_KEY = "mailroom:automations:runner:{}"  # expires with the time limit, should a worker die holding it
TRIGGERS_KEY = "mailroom:automations:triggers"  # held while the scheduled triggers are checked; expires likewise
RETRY_MINUTES = 60

log = logging.getLogger("mailroom.automations")


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=TIME_LIMIT_MS)
async def run_due_steps(slot: int) -> None:
    try:
        await run_until_done(BATCH_SIZE, time.monotonic() + RUN_SECONDS)
    finally:
        await get_redis().delete(SLOT_KEY.format(slot))


async def run_until_done(batch_size: int, deadline: float) -> int:
    """Batches until one comes back short (nothing more is due) or the deadline; how many ran."""
    ran, last = 0, None
    while time.monotonic() < deadline:
        try:
            async with get_sessionmaker()() as session:
                batch = await engine.run_batch(session, batch_size, last)
        except Exception:
            log.exception("an automation batch failed; running it again one enrolment at a time")
            batch = await _one_at_a_time(batch_size, last)
        ran, last = ran + batch.claimed, batch.last
        if batch.claimed + batch.postponed < batch_size:  # nothing more is due
            break
    return ran


async def _one_at_a_time(count: int, after: engine.Key | None) -> engine.Ran:
    """Up to `count` enrolments after `after`, each in its own batch; one that fails is postponed."""
    ran, postponed, last = 0, 0, after
    for _ in range(count):
        try:
            async with get_sessionmaker()() as session:
                one = await engine.run_batch(session, 1, last)
        except Exception:
            log.exception("an automation step failed; it is tried again in %d minutes", RETRY_MINUTES)
            async with get_sessionmaker()() as session:
                one = await engine.postpone_next(session, last, timedelta(minutes=RETRY_MINUTES))
            postponed += one.claimed
            one = engine.Ran(0, one.last)
        if one.last == last:  # nothing more was due
            break
        ran, last = ran + one.claimed, one.last
    return engine.Ran(ran, last, postponed)


async def start_if_due() -> None:
    """From the scheduler tick: a run in each free slot while steps are due."""
    async with get_sessionmaker()() as session:
        due = await engine.any_due(session, datetime.now(UTC))
    if not due:
        return
    for slot in range(RUNNERS):
        if await get_redis().set(SLOT_KEY.format(slot), "1", nx=True, px=TIME_LIMIT_MS):
            run_due_steps.send(slot)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=TIME_LIMIT_MS)
async def check_triggers() -> None:
    """Signals imports queued, then date, not-opened and segment triggers (service/triggers.py),
    each automation's in a transaction of its own: a segment's check may take up to its time limit,
    and what was checked before stays checked."""
    try:
        async with get_sessionmaker()() as session:
            await triggers.apply_queued(session)
            await session.commit()
            due = await triggers.due(session, datetime.now(UTC))
        for automation in due:
            async with get_sessionmaker()() as session:
                await triggers.evaluate(session, automation, datetime.now(UTC))
                await session.commit()
    finally:
        await get_redis().delete(TRIGGERS_KEY)


async def start_trigger_checks() -> None:
    """From the scheduler tick, which must stay quick: one check of the triggers at a time."""
    if await get_redis().set(TRIGGERS_KEY, "1", nx=True, px=TIME_LIMIT_MS):
        check_triggers.send()
