"""The campaign page's live progress when its connection is lost: the page says so while it is
gone, reconnects by itself, and then shows the campaign as it is now.

The connection is cut for real: the browser reaches the app through a loopback TCP proxy
(tests/support/proxy.py) that the test drops and restores, as a Wi-Fi drop or a restarting proxy
would; the app itself keeps running."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import redis
from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.proxy import TcpProxy
from webapp.campaigns.models import Campaign


def sending_campaign() -> int:
    async def go(session):
        campaign = Campaign(
            name="Live one",
            subject="Hi",
            status="sending",
            total_recipients=200,
            sent_count=20,
            started_at=datetime.now(UTC) - timedelta(seconds=10),
        )
        session.add(campaign)
        await session.flush()
        return campaign.id

    return run_db(go)


def set_sent(campaign_id: int, sent: int) -> None:
    async def go(session):
        await session.execute(text("UPDATE campaigns SET sent_count = :n WHERE id = :c"), {"n": sent, "c": campaign_id})

    run_db(go)


def publish_progress(campaign_id: int, sent: int) -> None:
    """What a worker publishes after a batch, once the page's stream listens."""
    channel = f"campaign:{campaign_id}"
    event = {"type": "campaign_progress", "campaign_id": campaign_id, "sent_count": sent, "total_recipients": 200}
    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        for _ in range(100):
            if dict(client.pubsub_numsub(channel)).get(channel.encode()):
                break
            time.sleep(0.1)
        client.publish(channel, json.dumps(event))


def test_the_campaign_page_says_when_its_live_connection_is_lost_and_catches_up_after(editor, page, live_server):
    campaign_id = sending_campaign()
    with TcpProxy(int(live_server.rsplit(":", 1)[1])) as proxy:
        sign_in_page(page, proxy.url, editor.email)
        page.goto(f"{proxy.url}/campaigns/{campaign_id}")
        sent, lost = page.locator(".progress-sent"), page.get_by_text("Live updates lost")
        expect(sent).to_have_text("20")
        publish_progress(campaign_id, 40)
        expect(sent).to_have_text("40")  # the live connection works
        expect(lost).to_be_hidden()

        proxy.cut()
        expect(lost).to_be_visible()
        set_sent(campaign_id, 120)  # sending went on meanwhile

        proxy.restore()
        expect(lost).to_be_hidden(timeout=20_000)
        expect(sent).to_have_text("120")  # the reconnected stream starts with the campaign as it is now
        expect(page.locator("#campaign-page")).to_have_attribute("data-live", "connected")


def publish_completed(campaign_id: int) -> None:
    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        event = {"type": "campaign_completed", "campaign_id": campaign_id}
        client.publish(f"campaign:{campaign_id}", json.dumps(event))


def set_status(campaign_id: int, status: str, sent: int) -> None:
    async def go(session):
        await session.execute(
            text("UPDATE campaigns SET status = :s, sent_count = :n, completed_at = now() WHERE id = :c"),
            {"s": status, "n": sent, "c": campaign_id},
        )

    run_db(go)


def test_screen_readers_hear_each_quarter_sent_and_the_end_not_every_update(editor, page, live_server):
    campaign_id = sending_campaign()
    sign_in_page(page, live_server, editor.email)
    page.goto(f"{live_server}/campaigns/{campaign_id}")
    announcer = page.locator("[data-live-announcer]")
    expect(announcer).to_have_attribute("role", "status")
    publish_progress(campaign_id, 30)
    expect(page.locator(".progress-sent")).to_have_text("30")
    expect(announcer).to_have_text("")  # still within the first quarter: nothing to say
    publish_progress(campaign_id, 110)
    expect(announcer).to_have_text("50 % sent.")
    set_status(campaign_id, "sent", 200)
    publish_completed(campaign_id)
    expect(announcer).to_have_text("Finished: 200 of 200 accepted by the mail server.")
