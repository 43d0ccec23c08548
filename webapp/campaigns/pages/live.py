"""Live campaign progress. The worker publishes seed 000's events on the Redis channel
campaign:<id> (webapp.delivery.progress); this module relays them:

- SSE /campaigns/{id}/events for the campaign page: events `status` and `progress` carry rendered
  partials (htmx's sse extension swaps them in), `done` tells the page to close the stream.
- WebSocket /ws/{id} for programs: the JSON events exactly as published, after a first
  campaign_status with the current state. Authenticated by the staff session cookie (same origin
  only) or `Authorization: Bearer <api key>`; otherwise closed with 4401.

Both subscribe before reading the current state, so nothing published in between is lost, and both
close their Redis subscription when the client goes away.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import anyio
from litestar import Controller, WebSocket, get, websocket
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import NotAuthorizedException, WebSocketDisconnect
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from redis.asyncio.client import PubSub

from webapp.campaigns.models import Campaign
from webapp.campaigns.models import CampaignStatus as S
from webapp.campaigns.pages.views import status_context
from webapp.campaigns.service import campaigns
from webapp.campaigns.service.progress import Progress, average_rate, current_progress
from webapp.campaigns.service.states import FINAL
from webapp.core.db import get_sessionmaker
from webapp.core.deps import Db
from webapp.core.errors import NotFound
from webapp.core.http import StaffRequest
from webapp.core.redis import get_redis
from webapp.core.security import authenticate
from webapp.core.sse import HEARTBEAT_SECONDS, close, render
from webapp.core.validation import is_valid_id
from webapp.delivery import progress

RATE_WINDOW_SECONDS = 30.0
AnySocket = WebSocket[Any, Any, Any]
# WebSocket close codes: 1000 is a normal close; 44xx mirror the HTTP statuses 401, 403 and 404.
NORMAL, NOT_AUTHORISED, FORBIDDEN, NOT_FOUND = 1000, 4401, 4403, 4404


async def _subscribe(campaign_id: int) -> PubSub:
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(progress.channel(campaign_id))
    return pubsub


async def _events(pubsub: PubSub) -> AsyncIterator[tuple[str, dict[str, Any]] | None]:
    """(raw JSON, event) for each message; None every HEARTBEAT_SECONDS without one."""
    quiet_since = time.monotonic()
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=HEARTBEAT_SECONDS)
        if message is None:
            if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                quiet_since = time.monotonic()
                yield None
            continue
        quiet_since = time.monotonic()
        raw = message["data"].decode() if isinstance(message["data"], bytes) else str(message["data"])
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield raw, event


async def _load(campaign_id: int) -> Campaign | None:
    """The campaign as it is now, read in a session of its own (a stream outlives its request's)."""
    async with get_sessionmaker()() as session:
        try:
            return await campaigns.get_campaign(session, campaign_id)
        except NotFound:
            return None


async def _current(c: Campaign) -> Progress:
    async with get_sessionmaker()() as session:
        return await current_progress(session, c)


class RateMeter:
    """Messages per second over the last RATE_WINDOW_SECONDS of progress events."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, done: int, at: float) -> float | None:
        self.samples.append((at, done))
        while len(self.samples) > 2 and at - self.samples[0][0] > RATE_WINDOW_SECONDS:
            self.samples.popleft()
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 - t0 >= 1 and d1 >= d0 else None


class _PageStream:
    """The SSE stream of one open campaign page."""

    def __init__(self, request: StaffRequest, campaign_id: int, pubsub: PubSub) -> None:
        self.request, self.campaign_id, self.pubsub = request, campaign_id, pubsub
        self.meter = RateMeter()
        self.started_at: datetime | None = None
        self.paced = False  # by a warm-up plan, as of the last status

    def _status(self, c: Campaign) -> ServerSentEventMessage:
        html = render(self.request, "campaigns/_status.html", **status_context(c))
        return ServerSentEventMessage(html, event="status")

    def _progress(self, p: Progress) -> ServerSentEventMessage:
        return ServerSentEventMessage(render(self.request, "campaigns/_progress.html", p=p), event="progress")

    async def __aiter__(self) -> AsyncIterator[ServerSentEventMessage]:
        c = await _load(self.campaign_id)
        if c is None:
            return
        status, self.started_at = c.status, c.started_at
        yield self._status(c)
        yield self._progress(await self._current(c))
        if status in FINAL:
            yield ServerSentEventMessage("", event="done")
            return
        async for item in _events(self.pubsub):
            if item is None:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            kind = item[1].get("type")
            if kind == "campaign_progress":
                yield self._progress(self._progress_from(item[1], status))
            elif kind in ("campaign_status", "campaign_completed") and (c := await _load(self.campaign_id)):
                status, self.started_at = c.status, c.started_at
                yield self._status(c)
                yield self._progress(await self._current(c))
                if status in FINAL:
                    yield ServerSentEventMessage("", event="done")
                    return

    async def _current(self, c: Campaign) -> Progress:
        progress = await _current(c)
        self.paced = progress.paced
        return progress

    def _progress_from(self, event: dict[str, Any], status: str) -> Progress:
        def count(name: str) -> int:
            value = event.get(name)
            return value if isinstance(value, int) else 0

        sent, failed = count("sent_count"), count("failed_count")
        rate = self.meter.add(sent + failed, time.monotonic()) or average_rate(self.started_at, sent + failed)
        total, skipped = count("total_recipients"), count("skipped_count")
        return Progress(self.campaign_id, status, sent, failed, total, rate, skipped, paced=self.paced)


def _is_last(event: dict[str, Any]) -> bool:
    """campaign_completed ends a send; a cancelled campaign gets no completion event."""
    campaign = event.get("campaign")
    if event.get("type") == "campaign_status" and isinstance(campaign, dict):
        return campaign.get("status") == S.CANCELLED.value
    return event.get("type") == "campaign_completed"


def _same_origin(socket: AnySocket) -> bool:
    """Browsers send Origin with WebSocket handshakes; another site's page must not ride on the
    staff cookie. Programs send no Origin."""
    origin = socket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == socket.headers.get("host")


async def _close_on_disconnect(socket: AnySocket, scope: anyio.CancelScope) -> None:
    try:
        while (await socket.receive())["type"] != "websocket.disconnect":
            pass
    except WebSocketDisconnect:
        pass
    scope.cancel()


class CampaignLiveController(Controller):
    path = "/"

    @get("/campaigns/{campaign_id:int}/events", name="campaign_events")
    async def events(self, request: StaffRequest, db: Db, campaign_id: FromPath[int]) -> ServerSentEvent:
        await campaigns.get_campaign(db, campaign_id)  # 404 for an unknown campaign
        pubsub = await _subscribe(campaign_id)
        return ServerSentEvent(
            _PageStream(request, campaign_id, pubsub),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=BackgroundTask(close, pubsub),  # also runs when the client disconnected
        )

    @websocket("/ws/{campaign_id:int}", opt={"exclude_from_auth": True})
    async def socket(self, socket: AnySocket, campaign_id: FromPath[int]) -> None:
        await socket.accept()
        try:
            principal = await authenticate(socket, api_key_allowed=True)
        except NotAuthorizedException as exc:
            await socket.close(code=NOT_AUTHORISED, reason=exc.detail)
            return
        if not principal.via_api_key and not _same_origin(socket):
            await socket.close(code=FORBIDDEN, reason="Cross-origin connections need an API key.")
            return
        if not is_valid_id(campaign_id):
            await socket.close(code=NOT_FOUND, reason=f"Campaign {campaign_id} does not exist.")
            return
        pubsub = await _subscribe(campaign_id)
        try:
            if (c := await _load(campaign_id)) is None:
                await socket.close(code=NOT_FOUND, reason=f"Campaign {campaign_id} does not exist.")
                return
            await socket.send_json(progress.status_event(c))
            if c.status in FINAL:
                if c.status == S.SENT.value:
                    await socket.send_json(progress.completed_event(c))
            else:
                await self._relay(socket, pubsub)
            await socket.close(code=NORMAL)
        except WebSocketDisconnect:
            pass
        finally:
            await close(pubsub)

    @staticmethod
    async def _relay(socket: AnySocket, pubsub: PubSub) -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_close_on_disconnect, socket, tasks.cancel_scope)
            async for item in _events(pubsub):
                if item is None:
                    continue
                raw, event = item
                await socket.send_text(raw)
                if _is_last(event):
                    break
            tasks.cancel_scope.cancel()
