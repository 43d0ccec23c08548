"""Send now and Resume start a campaign at once, not at the scheduler's next tick (every 10 s by
default). The worker here never ticks (its interval is an hour), so only the start that the page
or the API asks for can send anything."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.support.campaigns import audience, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns
from webapp.core.redis import get_redis
from webapp.delivery.actors import start_due_campaigns
from webapp.delivery.pipeline import heartbeat_key

NO_TICKS = {"MAILROOM_SCHEDULER_INTERVAL": "3600"}
SIZE = 30


async def a_campaign(db, port: int) -> int:
    email_list = await audience(db, SIZE)
    await smtp_server(db, port)
    campaign = await ready_campaign(db, [email_list.id])
    await db.commit()
    return campaign.id


async def test_send_now_on_the_page_sends_without_the_scheduler(staff, db, worker):
    with SmtpSink() as sink:
        campaign_id = await a_campaign(db, sink.port)
        worker("no-ticks", **NO_TICKS)
        editor = await staff("editor")
        assert editor.post(f"/campaigns/{campaign_id}/send").status_code == 303
        done = await wait_for_status(db, campaign_id, {"sent"}, timeout=60)
    assert done.sent_count == SIZE and len(sink.messages) == SIZE


async def test_resume_through_the_api_sends_without_the_scheduler(api, db, worker):
    with SmtpSink() as sink:
        campaign_id = await a_campaign(db, sink.port)
        client = await api("editor")
        assert client.post(f"/api/campaigns/{campaign_id}/send").status_code == 202
        assert client.post(f"/api/campaigns/{campaign_id}/pause").json()["status"] == "paused"
        worker("no-ticks", **NO_TICKS)
        # The start the send asked for finds the campaign paused: it sends nothing, and leaves no
        # sign of a worker serving it that would keep the resume from starting it.
        for _ in range(150):  # its key would otherwise outlive this wait (10 s from the send)
            if not await get_redis().exists(heartbeat_key(campaign_id)):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the start of a paused campaign left its heartbeat behind")
        assert not sink.messages

        assert client.post(f"/api/campaigns/{campaign_id}/resume").json()["status"] == "sending"
        done = await wait_for_status(db, campaign_id, {"sent"}, timeout=60)
    assert done.sent_count == SIZE and len(sink.messages) == SIZE


async def queued_starts() -> list[int]:
    """The campaigns of the start_campaign messages waiting on the broker's send queue."""
    messages = [json.loads(m) for m in await get_redis().hvals("mailroom:send.msgs")]
    return [m["args"][0] for m in messages if m["actor_name"] == "start_campaign"]


async def test_ticks_that_come_before_a_worker_takes_the_start_do_not_start_a_campaign_again(db):
    email_list = await audience(db, 3)
    scheduled = await ready_campaign(db, [email_list.id])
    await campaigns.schedule(db, scheduled.id, (datetime.now(UTC) + timedelta(hours=1)).isoformat())
    await db.execute(
        text("UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = :c"), {"c": scheduled.id}
    )
    await db.commit()

    for _ in range(3):  # no worker: each tick finds the campaign sending and nobody serving it yet
        await start_due_campaigns()
    assert await queued_starts() == [scheduled.id]  # one start: it fans out a sending chain per worker thread
