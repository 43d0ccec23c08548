"""Staff UI: an import's live progress (SSE) and its rejected rows as a CSV download.

The worker publishes "look again" on the Redis channel import:<id> after every chunk
(webapp/services/import_progress.py); the stream reads the job row and sends the rendered
imports/_progress.html as event `progress`, and `done` once the job has finished, as the campaign
page does (campaign_live.py). It subscribes before reading, so nothing published in between is lost.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator

import anyio
from litestar import Controller, Request, get
from litestar.background_tasks import BackgroundTask
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream
from redis.asyncio.client import PubSub
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.core.sse import HEARTBEAT_SECONDS, render
from webapp.imports.models import ImportJob
from webapp.imports.pages.jobs import job_context
from webapp.imports.queries import jobs as import_queries
from webapp.imports.service import jobs as imports
from webapp.imports.service import progress as import_progress

DOWNLOAD_BATCH = 5000


async def _close(pubsub: PubSub) -> None:
    with anyio.CancelScope(shield=True):  # runs while the connection's task is being cancelled
        await pubsub.aclose()


class _JobStream:
    def __init__(self, request: Request, job_id: int, pubsub: PubSub) -> None:
        self.request, self.job_id, self.pubsub = request, job_id, pubsub

    async def _render(self) -> tuple[ServerSentEventMessage, bool]:
        async with get_sessionmaker()() as session:
            job = await session.get(ImportJob, self.job_id)
            if job is None:
                return ServerSentEventMessage("", event="done"), True
            html = render(self.request, "imports/_progress.html", **await job_context(session, job))
            return ServerSentEventMessage(html, event="progress"), job.is_finished

    async def __aiter__(self) -> AsyncIterator[ServerSentEventMessage]:
        message, finished = await self._render()
        yield message
        quiet_since = time.monotonic()
        while not finished:
            event = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=HEARTBEAT_SECONDS)
            if event is None:
                if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                    quiet_since = time.monotonic()
                    yield ServerSentEventMessage(comment="keep-alive")
                continue
            quiet_since = time.monotonic()
            message, finished = await self._render()
            yield message
        yield ServerSentEventMessage("", event="done")


def _csv_line(cells: list[object]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().encode()


async def _rejects_csv(job: ImportJob) -> AsyncIterator[bytes]:
    """line, kind, reason, then the row's own columns under the file's headers: fix and import again."""
    yield b"\xef\xbb\xbf" + _csv_line(["line", "problem", "reason", *job.headers])  # BOM: Excel reads UTF-8
    after = 0
    while True:
        async with get_sessionmaker()() as session:
            rows, _ = await import_queries.rejects_page(session, job.id, after, DOWNLOAD_BATCH)
        if not rows:
            return
        chunk = b"".join(_csv_line([r.line, r.kind, r.reason, *r.cells]) for r in rows)
        after = rows[-1].line
        yield chunk


class ImportLiveController(Controller):
    path = "/contacts/import"

    @get("/{job_id:int}/events")
    async def events(self, request: Request, db: AsyncSession, job_id: int) -> ServerSentEvent:
        await imports.get_job(db, job_id)  # 404 for an unknown job
        pubsub = get_redis().pubsub()
        await pubsub.subscribe(import_progress.channel(job_id))
        return ServerSentEvent(
            _JobStream(request, job_id, pubsub),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=BackgroundTask(_close, pubsub),
        )

    @get("/{job_id:int}/rejects.csv")
    async def rejects_csv(self, db: AsyncSession, job_id: int) -> Stream:
        job = await imports.get_job(db, job_id)
        stem = job.filename.rsplit(".", 1)[0][:80] or "import"
        return Stream(
            _rejects_csv(job),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{_ascii(stem)}-rejected.csv"',
            },
        )


def _ascii(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_. ") else "_" for ch in name)
