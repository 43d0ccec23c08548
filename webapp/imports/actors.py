"""The contact import actor. Synchronous on purpose: a million-row import keeps a CPU busy for a
while, and a plain actor runs in its own worker thread instead of holding up the event loop that
the async send actors share. Messages carry the job id only; running a job twice is safe (see
webapp/services/import_loader.py)."""

from __future__ import annotations

import dramatiq

from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.imports.queries import jobs as import_queries
from webapp.imports.service import loader as import_loader

QUEUE = "imports"


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=60_000)
def import_gave_up(message_data: dict, retry_data: dict) -> None:
    """Called by the Retries middleware once import_contacts has used up its retries."""
    import_loader.give_up(int(message_data["args"][0]), int(retry_data.get("retries", 0)) + 1)


@dramatiq.actor(
    queue_name=QUEUE,
    max_retries=3,
    min_backoff=5_000,
    max_backoff=120_000,
    time_limit=60 * 60_000,
    on_retry_exhausted=import_gave_up.actor_name,
)
def import_contacts(job_id: int) -> None:
    import_loader.run_import(job_id)


def enqueue(job_id: int) -> None:
    import_contacts.send(job_id)


async def resume_stalled() -> None:
    """From the scheduler tick: start again the imports whose worker died (see queries/imports.py)."""
    async with get_sessionmaker()() as session:
        stalled = await import_queries.claim_stalled(session, get_settings().imports.stall_seconds)
        await session.commit()
    for job_id in stalled:
        import_contacts.send(job_id)
