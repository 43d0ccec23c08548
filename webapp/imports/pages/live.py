"""Staff UI: an import's live progress (SSE) and its rejected rows as a CSV download.

The worker publishes "look again" on the Redis channel import:<id> after every chunk
(service/progress.py); the stream reads the job row and sends the rendered
imports/_progress.html as event `progress`, and `done` once the job has finished, as the campaign
page does. It subscribes before reading, so nothing published in between is lost.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from litestar import Controller, get
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream
from redis.asyncio.client import PubSub

from webapp.core.db import get_sessionmaker
from webapp.core.deps import Db
from webapp.core.downloads import csv_download
from webapp.core.http import StaffRequest
from webapp.core.redis import get_redis
from webapp.core.sse import HEARTBEAT_SECONDS, close, render
from webapp.imports.pages.jobs import job_context
from webapp.imports.service import export as exports
from webapp.imports.service import jobs as imports
from webapp.imports.service import progress as import_progress


class _JobStream:
    def __init__(self, request: StaffRequest, job_id: int, pubsub: PubSub) -> None:
        self.request, self.job_id, self.pubsub = request, job_id, pubsub

    async def _render(self) -> tuple[ServerSentEventMessage, bool]:
        async with get_sessionmaker()() as session:
            job = await imports.find_job(session, self.job_id)
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


class ImportLiveController(Controller):
    path = "/contacts/import"

    @get("/{job_id:int}/events")
    async def events(self, request: StaffRequest, db: Db, job_id: FromPath[int]) -> ServerSentEvent:
        await imports.get_job(db, job_id)  # 404 for an unknown job
        pubsub = get_redis().pubsub()
        await pubsub.subscribe(import_progress.channel(job_id))
        return ServerSentEvent(
            _JobStream(request, job_id, pubsub),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=BackgroundTask(close, pubsub),
        )

    @get("/{job_id:int}/rejects.csv")
    async def rejects_csv(self, db: Db, job_id: FromPath[int]) -> Stream:
        job = await imports.get_job(db, job_id)
        return csv_download(exports.rejects_csv(job), exports.rejects_filename(job))
