"""Uploads that try to take the service down: XLSX files that unzip to far more than they weigh,
broken ones, and more rows than an import takes. The web process and the worker stay small (the
files are read in processes of their own, under limits), and people get a 422 that says why."""

from __future__ import annotations

import psutil
import pytest
from sqlalchemy import select

from tests.conftest import create_user, running_server, sign_in
from tests.integration.test_template_limits import peak_rss_mb, web_process
from tests.support import xlsx
from tests.support.imports import upload, uploaded_job_id, wait_for_job
from webapp.imports.models import ImportJob, ImportReject

pytestmark = pytest.mark.long  # minutes: started first

PROCESS_PEAK_MB = 400  # web or worker process, at most, ever (they start at about 150 MB)
# Summing a bomb up may take the reading process's whole CPU limit (reading.SUMMARY_SECONDS), and
# longer than that on a machine busy with other tests.
BOMB_WAIT = 300


def refused(response, message: str) -> None:
    assert response.status_code == 422, response.text[:1000]
    assert message in response.text and 'id="file-error"' in response.text, response.text[-3000:]


async def test_xlsx_bombs_are_refused_or_defused_at_upload_and_the_web_process_stays_small(db, staff, live_server):
    client = await staff("editor")
    web = web_process(live_server)
    refused(upload(client, xlsx.unzipping_to(600), "deep.xlsx"), "more than 512 MB once unzipped")
    giant_cell = upload(client, xlsx.giant_cell(), "cell.xlsx", read_timeout=BOMB_WAIT)  # the 150 KB file
    job_id = uploaded_job_id(giant_cell)
    page = client.get(f"/contacts/import/{job_id}", timeout=BOMB_WAIT)
    assert page.status_code == 200 and "longer than 131,072 characters" in page.text, page.text[-2000:]
    assert peak_rss_mb(web) < PROCESS_PEAK_MB
    assert web.is_running() and await db.scalar(select(ImportJob.id).where(ImportJob.id != job_id)) is None


async def test_millions_of_shared_strings_stop_at_the_readers_memory_limit(db):
    """Against a server whose readers may use 128 MB: the strings reach it in a quarter of the time
    they take to reach the default 512 MB, and the limit works the same."""
    user = await create_user(db, "editor")
    with running_server("small-readers", MAILROOM_IMPORT_READ_MEMORY_MB="128") as url:
        client = sign_in(url, user.email)
        response = upload(client, xlsx.shared_strings(), "strings.xlsx", read_timeout=BOMB_WAIT)
        refused(response, "Reading this file needs more than 128 MB of memory: the memory limit.")
        assert peak_rss_mb(web_process(url)) < PROCESS_PEAK_MB


async def test_a_broken_xlsx_is_a_422_naming_the_file(db, staff, api):
    damaged = "This Excel file cannot be read: it is damaged"
    refused(upload(await staff("editor"), xlsx.broken(), "broken.xlsx"), damaged)
    response = (await api("editor")).post(
        "/api/contacts/import", files={"file": ("broken.xlsx", xlsx.broken(), "application/octet-stream")}
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "file" and "cannot be read" in error["message"] and "BadZipFile" not in error["message"]


async def test_a_bomb_after_the_first_rows_fails_its_import_and_the_worker_stays_small(db, staff, worker):
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, xlsx.wide_row_after(20), "wide.xlsx", read_timeout=BOMB_WAIT))
    assert client.post(f"/contacts/import/{job_id}/start", data={"mode": "add", "map_0": "email"}).status_code == 303
    started = worker("import-worker")
    job = await wait_for_job(db, job_id, timeout=180)
    assert max(peak_rss_mb(p) for p in worker_processes(started.proc.pid)) < PROCESS_PEAK_MB
    assert job.status == "failed" and "memory limit" in job.error, job.error
    assert await db.scalar(select(ImportReject.line)) is None
    report = client.get(f"/contacts/import/{job_id}").text
    saved = job.inserted + job.updated  # the rows of the chunks before the bomb, if the reader got that far
    assert (
        f"The {saved:,} rows counted above were saved before it stopped." if saved else "No row was saved."
    ) in report
    assert "Every row was read without a problem" not in report


def worker_processes(pid: int) -> list[psutil.Process]:
    supervisor = psutil.Process(pid)
    return [supervisor, *supervisor.children()]  # not the file readers under the worker processes


async def test_more_rows_than_an_import_takes_is_refused_at_upload(db, staff):
    too_many = b"email\n" + b"a@b.co\n" * 2_100_000
    refused(upload(await staff("editor"), too_many, "many.csv"), "more than 2,000,000 rows")
