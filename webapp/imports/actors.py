"""The contact import actor. Synchronous on purpose: a million-row import keeps a CPU busy for a
while, and a plain actor runs in its own worker thread instead of holding up the event loop that
the async send actors share. Messages carry the job id only; running a job twice is safe (see
service/loader.py)."""

from __future__ import annotations

from typing import Any

import dramatiq

from webapp.core.db import get_sessionmaker
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.imports.service import jobs as imports
from webapp.imports.service import loader as import_loader

QUEUE = "imports"
RETRIES = 3  # then import_gave_up marks the job failed
MIN_BACKOFF_MS = 5_000
MAX_BACKOFF_MS = 120_000
TIME_LIMIT_MS = 60 * 60_000  # an hour: a million rows take about half a minute on two idle cores
GIVE_UP_TIME_LIMIT_MS = 60_000


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=GIVE_UP_TIME_LIMIT_MS)
def import_gave_up(message_data: dict[str, Any], retry_data: dict[str, Any]) -> None:
    """Called by the Retries middleware once import_contacts has used up its retries."""
    import_loader.give_up(int(message_data["args"][0]), int(retry_data.get("retries", 0)) + 1)


@dramatiq.actor(
    queue_name=QUEUE,
    max_retries=RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=TIME_LIMIT_MS,
    on_retry_exhausted=import_gave_up.actor_name,
)
def import_contacts(job_id: int) -> None:
    import_loader.run_import(job_id)


def enqueue(job_id: int) -> None:
    import_contacts.send(job_id)


async def resume_stalled() -> None:
    """From the scheduler tick: start again the imports whose worker died (see queries/jobs.py)."""
    async with get_sessionmaker()() as session:
        stalled = await imports.claim_stalled(session)
        await session.commit()
    for job_id in stalled:
        import_contacts.send(job_id)
