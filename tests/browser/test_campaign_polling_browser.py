"""A campaign page left open while its campaign finishes asks for its counters far less often: the
fragment that brings the finished state polls every 30 s, for the opens and clicks still to come."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import redis
from playwright.sync_api import expect

from tests.browser.conftest import settled, sign_in_page
from tests.browser.test_campaign_live_browser import sending_campaign
from tests.conftest import run_db
from webapp.campaigns.models import Campaign
from webapp.delivery import progress

QUIET_SECONDS = 7  # longer than the 5 s polling interval, shorter than the 30 s one


def finish(campaign_id: int) -> None:
    """What the worker does after the last message: mark the campaign sent, then tell live pages."""

    async def go(session):
        c = await session.get(Campaign, campaign_id)
        c.status, c.sent_count, c.completed_at = "sent", c.total_recipients, datetime.now(UTC)
        await session.flush()
        return progress.completed_event(c)

    event = run_db(go)
    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        client.publish(progress.channel(campaign_id), json.dumps(event))


def test_a_finished_campaign_page_polls_its_counters_slowly(editor, page, base_url):
    campaign_id = sending_campaign()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/counters") else None)
    sign_in_page(page, base_url, editor.email)
    page.goto(f"{base_url}/campaigns/{campaign_id}")
    counters = page.locator(f"#campaign-{campaign_id}-counters")
    expect(counters).to_have_attribute("hx-trigger", "every 5s, sse:progress throttle:2s")
    expect(page.locator("#campaign-page")).to_have_attribute("data-live", "connected")

    finish(campaign_id)
    expect(page.locator(".progress-sent")).to_have_text("200")  # the live stream shows it finished
    expect(counters).to_be_visible()
    expect(counters).to_have_attribute("hx-trigger", "every 30s", timeout=15_000)
    settled(page)

    asked_when_finished = len(asked)
    page.wait_for_timeout(QUIET_SECONDS * 1000)
    assert len(asked) == asked_when_finished, asked
