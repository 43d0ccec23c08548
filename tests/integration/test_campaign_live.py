"""Live progress against the real server: the campaign page's SSE stream (current state first, then
each published event as a rendered partial, closed at the end) and the WebSocket relaying seed 000's
JSON events, with its authentication."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from webapp.campaigns.models import Campaign
from webapp.core.redis import get_redis
from webapp.delivery import progress


async def sending_campaign(db, **changes) -> Campaign:
    c = Campaign(
        name="Live one",
        subject="Hi",
        status="sending",
        total_recipients=200,
        sent_count=20,
        started_at=datetime.now(UTC) - timedelta(seconds=10),
        **changes,
    )
    db.add(c)
    await db.commit()
    return c


class EventReader:
    """Server-sent events from a streaming httpx response: (event, data) pairs; comments skipped."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self, timeout: float = 10) -> tuple[str, str]:
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> tuple[str, str]:
        event, data = "message", []
        async for line in self.lines:
            if line == "":
                if data or event != "message":
                    return event, "\n".join(data)
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        raise EOFError("the stream ended")


def browser(staff_client: httpx.Client, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, cookies=staff_client.cookies, timeout=30)


async def subscribers(campaign_id: int) -> int:
    return dict(await get_redis().pubsub_numsub(progress.channel(campaign_id)))[progress.channel(campaign_id).encode()]


async def test_sse_streams_the_state_then_each_event_and_ends_with_the_campaign(staff, db, live_server):
    viewer = await staff("viewer")
    c = await sending_campaign(db)
    redis = get_redis()
    async with browser(viewer, live_server) as client, client.stream("GET", f"/campaigns/{c.id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = EventReader(response)
        kind, data = await events.next()
        assert kind == "status" and f'id="campaign-{c.id}-status"' in data and "badge status-sending" in data
        assert "Pause" not in data  # rendered for this viewer: no buttons
        kind, data = await events.next()
        assert kind == "progress" and "10.0 %" in data and 'aria-valuenow="10.0"' in data

        c.sent_count, c.failed_count = 100, 10
        await progress.publish(redis, c.id, progress.progress_event(c))
        kind, data = await events.next()
        assert kind == "progress" and "55.0 %" in data
        assert '<dd class="progress-remaining">90</dd>' in data and '<dd class="progress-failed">10</dd>' in data
        assert re.search(r'class="progress-rate">[\d.]+/s<', data)  # from the start time: ~110 in 10 s
        assert re.search(r'class="progress-eta">(\d+ min )?\d+ s<', data)

        c.status, c.sent_count, c.failed_count, c.completed_at = "sent", 190, 10, datetime.now(UTC)
        await db.commit()
        await progress.publish(redis, c.id, progress.status_event(c))
        kind, data = await events.next()
        assert kind == "status" and "badge status-sent" in data
        kind, data = await events.next()
        assert kind == "progress" and "100.0 %" in data
        assert (await events.next())[0] == "done"
        with pytest.raises(EOFError):
            await events.next()


async def test_sse_for_a_finished_campaign_says_done_at_once_and_needs_a_session(staff, db, live_server):
    editor = await staff("editor")
    c = await sending_campaign(db, completed_at=datetime.now(UTC))
    c.status = "cancelled"
    await db.commit()
    async with browser(editor, live_server) as client, client.stream("GET", f"/campaigns/{c.id}/events") as response:
        events = EventReader(response)
        kind, data = await events.next()
        assert kind == "status" and "badge status-cancelled" in data and "Duplicate" in data
        assert [(await events.next())[0] for _ in range(2)] == ["progress", "done"]
    anonymous = httpx.get(f"{live_server}/campaigns/{c.id}/events")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


async def test_sse_closes_its_redis_subscription_when_the_page_goes_away(staff, db, live_server):
    viewer = await staff("viewer")
    c = await sending_campaign(db)
    async with browser(viewer, live_server) as client, client.stream("GET", f"/campaigns/{c.id}/events") as response:
        await EventReader(response).next()
        assert await subscribers(c.id) == 1
    deadline = time.monotonic() + 10
    while await subscribers(c.id):
        assert time.monotonic() < deadline, "the subscription outlived the client"
        await asyncio.sleep(0.1)


def ws_url(live_server: str, campaign_id: int) -> str:
    return live_server.replace("http://", "ws://") + f"/ws/{campaign_id}"


def cookie_header(client: httpx.Client) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in client.cookies.items())}


async def test_websocket_relays_the_seed_events_after_the_current_status(staff, db, live_server):
    editor = await staff("editor")
    c = await sending_campaign(db)
    redis = get_redis()
    async with connect(ws_url(live_server, c.id), additional_headers=cookie_header(editor)) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "campaign_status"
        assert {k: first["campaign"][k] for k in ("id", "name", "status", "progress")} == {
            "id": c.id,
            "name": "Live one",
            "status": "sending",
            "progress": 10.0,
        }
        datetime.fromisoformat(first["timestamp"])

        event = progress.progress_event(c) | {"sent_count": 150, "progress": 75.0}
        await progress.publish(redis, c.id, event)
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == event

        assert editor.post(f"/campaigns/{c.id}/pause").status_code == 303  # staff changes are announced
        paused = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (paused["type"], paused["campaign"]["status"]) == ("campaign_status", "paused")

        completed = progress.completed_event(c)
        await progress.publish(redis, c.id, completed)
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == completed
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == 1000


async def test_websocket_takes_an_api_key_and_refuses_strangers(api, staff, db, live_server):
    key_client = await api("viewer")
    editor = await staff("editor")
    c = await sending_campaign(db, completed_at=datetime.now(UTC))
    c.status = "sent"
    await db.commit()
    async with connect(
        ws_url(live_server, c.id), additional_headers={"Authorization": key_client.headers["Authorization"]}
    ) as ws:
        kinds = [json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] for _ in range(2)]
        assert kinds == ["campaign_status", "campaign_completed"]  # a finished campaign: its end, then close

    async def close_code(**options) -> int:
        async with connect(ws_url(live_server, options.pop("campaign_id", c.id)), **options) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert await close_code() == 4401
    assert await close_code(additional_headers={"Authorization": "Bearer not-a-key"}) == 4401
    assert await close_code(additional_headers=cookie_header(editor), origin="http://evil.example") == 4403
    assert await close_code(additional_headers=cookie_header(editor), campaign_id=987654) == 4404
    with pytest.raises(InvalidStatus):
        async with connect(live_server.replace("http://", "ws://") + "/ws/not-a-number"):
            pass
