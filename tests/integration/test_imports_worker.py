"""The import actor's promises, with real worker processes: a worker killed mid-import is replaced
and the job resumes after its last loaded chunk with nothing written or counted twice; a second
runner backs off while one holds the job; running a finished job again changes nothing."""

from __future__ import annotations

import asyncio

import anyio
import psycopg
from sqlalchemy import func, select

from tests.support.imports import start, upload, uploaded_job_id, wait_for_job
from webapp.contacts.models import Contact
from webapp.core.config import get_settings
from webapp.imports.models import ImportJob, ImportReject
from webapp.imports.queries.runs import LOCK_KEY
from webapp.imports.service.loader import libpq_url, run_import

ROWS = 120_000


def messy_file(rows: int) -> tuple[bytes, dict[str, int]]:
    """Every 97th row has no valid address; every 89th repeats the address of a row 5,000 lines up
    (so in another chunk), in capitals."""
    lines, seen, expected = ["email,first_name"], set(), {"invalid": 0, "duplicates": 0}
    for i in range(rows):
        if i % 97 == 0:
            lines.append(f"bad{i},Bad")
            expected["invalid"] += 1
            continue
        j = i - 5000 if i % 89 == 0 and i >= 5000 and (i - 5000) % 97 else i
        email = f"person{j}@example.com"
        if email in seen:
            expected["duplicates"] += 1
            email = email.upper()
        seen.add(email.lower())
        lines.append(f"{email},P{i}")
    expected["unique"] = len(seen)
    return ("\n".join(lines) + "\n").encode(), expected


async def fetch(db, job_id: int) -> ImportJob:
    await db.commit()
    return (
        await db.execute(select(ImportJob).where(ImportJob.id == job_id).execution_options(populate_existing=True))
    ).scalar_one()


async def test_a_killed_worker_is_replaced_and_the_import_resumes_exactly(db, staff, worker):
    body, expected = messy_file(ROWS)
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, body))
    assert start(client, job_id, {0: "email", 1: "first_name"}).status_code == 303
    settings = {"MAILROOM_IMPORT_CHUNK_ROWS": "2000", "MAILROOM_IMPORT_STALL_SECONDS": "2"}
    first = worker("import-crash-1", **settings)
    while True:
        job = await fetch(db, job_id)
        assert job.status != "done", "the import finished before the worker could be killed"
        if job.status == "running" and job.processed >= 10_000:
            first.kill()
            break
        await asyncio.sleep(0.02)
    interrupted = await fetch(db, job_id)
    assert interrupted.status == "running" and 10_000 <= interrupted.processed < ROWS
    worker("import-crash-2", **settings)  # its scheduler tick finds the job without a runner and restarts it
    job = await wait_for_job(db, job_id, timeout=180)
    assert job.status == "done", job.error
    assert (job.total, job.processed) == (ROWS, ROWS)
    assert job.inserted == expected["unique"] == await db.scalar(select(func.count()).select_from(Contact))
    assert (job.rejected, job.duplicates, job.skipped) == (
        expected["invalid"],
        expected["duplicates"],
        expected["duplicates"],
    )
    reject_rows = await db.scalar(select(func.count()).select_from(ImportReject).where(ImportReject.job_id == job_id))
    assert reject_rows == expected["invalid"] + expected["duplicates"]
    assert job.inserted + job.rejected + job.skipped == ROWS


async def test_a_second_runner_backs_off_and_a_finished_job_stays_as_it_is(db, staff):
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, b"email\na@example.com\nb@example.com\n"))
    assert start(client, job_id, {0: "email"}).status_code == 303
    with psycopg.connect(libpq_url(get_settings().database.url)) as holder:  # another runner has the job
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_KEY, job_id))
        assert await anyio.to_thread.run_sync(run_import, job_id) == "busy"
        assert (await fetch(db, job_id)).status == "queued"
    assert await anyio.to_thread.run_sync(run_import, job_id) == "done"
    done = await fetch(db, job_id)
    assert (done.inserted, done.processed) == (2, 2)
    assert await anyio.to_thread.run_sync(run_import, job_id) == ""  # a redelivered message: nothing to do
    again = await fetch(db, job_id)
    assert (again.status, again.inserted, again.processed, again.finished_at) == ("done", 2, 2, done.finished_at)
