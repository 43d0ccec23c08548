"""The campaign page's live progress when its connection is lost: the page says so while it is
gone, reconnects by itself, and then shows the campaign as it is now.

The connection is cut for real: the browser reaches the app through a loopback TCP proxy
(tests/support/proxy.py) that the test drops and restores, as a Wi-Fi drop or a restarting proxy
would; the app itself keeps running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def test_the_campaign_page_says_when_its_live_connection_is_lost_and_catches_up_after(editor, page, live_server):
    campaign_id = sending_campaign()
    with TcpProxy(int(live_server.rsplit(":", 1)[1])) as proxy:
        sign_in_page(page, proxy.url, editor.email)
        page.goto(f"{proxy.url}/campaigns/{campaign_id}")
        live, lost = page.locator("#campaign-page"), page.get_by_text("Live updates lost")
        expect(live).to_have_attribute("data-live", "connected")
        expect(lost).to_be_hidden()

        proxy.cut()
        expect(lost).to_be_visible()
        expect(live).to_have_attribute("data-live", "lost")
        set_sent(campaign_id, 120)  # sending went on meanwhile

        proxy.restore()
        expect(live).to_have_attribute("data-live", "connected", timeout=20_000)
        expect(lost).to_be_hidden()
        expect(page.locator(".progress-sent")).to_have_text("120")
