"""Uploading, starting and waiting for contact imports through the staff UI."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.imports.models import ImportJob, ImportReject


def upload(
    client: httpx.Client, content: bytes, filename: str = "contacts.csv", *, read_timeout: float = 30, **data: str
) -> httpx.Response:
    file = {"file": (filename, content, "application/octet-stream")}
    return client.post("/contacts/import", files=file, data=data, timeout=httpx.Timeout(30, read=read_timeout))


def uploaded_job_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text[:2000]
    match = re.fullmatch(r"/contacts/import/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def start(
    client: httpx.Client, job_id: int, mapping: dict[int, str], mode: str = "add", **extra: str
) -> httpx.Response:
    """mapping: column index -> field, "custom:<existing>" or ("custom:", name) for a new custom field."""
    data: dict[str, str] = {"mode": mode, **extra}
    for index, target in mapping.items():
        if isinstance(target, tuple):
            data[f"map_{index}"], data[f"custom_{index}"] = target
        else:
            data[f"map_{index}"] = target
    return client.post(f"/contacts/import/{job_id}/start", data=data)


async def wait_for_job(session: AsyncSession, job_id: int, timeout: float = 90) -> ImportJob:
    deadline = time.monotonic() + timeout
    while True:
        job = (
            await session.execute(
                select(ImportJob).where(ImportJob.id == job_id).execution_options(populate_existing=True)
            )
        ).scalar_one()
        if job.status in ("done", "failed"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"import {job_id} still {job.status} ({job.processed} rows) after {timeout}s")
        await session.commit()  # end the snapshot so the next read sees the worker's commits
        await asyncio.sleep(0.1)


async def rejects(session: AsyncSession, job_id: int) -> list[tuple[int, str, str, str]]:
    rows = await session.scalars(select(ImportReject).where(ImportReject.job_id == job_id).order_by(ImportReject.line))
    return [(r.line, r.kind, r.email, r.reason) for r in rows]
