"""Staff reading campaign mail in the Outbox, in Chromium, count as nobody: the page loads no open
pixel, its links open their destinations in a new tab without passing through click tracking, and
a tracked link followed in a signed-in staff browser is not counted either."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.events import apply_events
from tests.support.outbox import captured_campaign_message
from webapp.core.tokens import make_token


def engagement() -> tuple[int, int, int]:
    async def go(session):
        await apply_events()
        counted = (await session.execute(text("SELECT opened_count, clicked_count FROM campaigns"))).one()
        return (*counted, await session.scalar(text("SELECT count(*) FROM email_events")))

    return run_db(go)


def test_reading_a_message_in_the_outbox_counts_no_open_and_no_click(admin, page, base_url):
    destination = base_url + "/login?from=mail"  # this server, so the new tab has something to show
    captured = run_db(lambda session: captured_campaign_message(session, base_url, destination))
    link_id = run_db(lambda session: session.scalar(text("SELECT id FROM links")))
    sign_in_page(page, base_url, admin.email)

    page.goto(f"{base_url}/outbox/{captured.outbox_id}")  # returns once the page, its frame and images loaded
    frame = page.frame_locator("iframe.outbox-preview")
    expect(frame.locator("p").first).to_have_text("Hello Person0")
    assert engagement() == (0, 0, 0)  # an open is buffered before the pixel is answered, so before "load"

    with page.expect_popup() as opened:
        frame.get_by_role("link", name="Read more").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == destination
    tab.close()

    page.goto(f"{base_url}/u/c/{make_token('click', captured.delivery_id, link_id)}")
    assert page.url == destination
    assert engagement() == (0, 0, 0)
