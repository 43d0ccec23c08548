"""End to end in Chromium (issue 3): an editor runs the wizard with a template, sends to a list of
50 through a real worker and a real SMTP server (aiosmtpd), watches the progress bar reach 100 %
and the badge turn "sent" without reloading, then one recipient opens the message, clicks its
link and unsubscribes, and the campaign page's counters show it once reloaded (a finished
campaign's page no longer polls)."""

from __future__ import annotations

import asyncio
import re

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import audience, smtp_server
from tests.support.events import apply_events
from tests.support.screenshots import shot
from tests.support.smtp import RecordingHandler, SmtpSink
from tests.support.workers import WorkerProcess
from webapp.settings.service import organisation as org_settings
from webapp.templates.service import templates

TEMPLATE_HTML = """<html><head><style>h1 { color: #1d3fbf; font-family: Georgia, serif; }</style></head>
<body style="font-family: Arial, sans-serif; max-width: 560px; margin: auto;">
<h1>Hello {{ first_name | default("there") }}!</h1>
<p>Our spring collection is here, and {{ company }} gets early access.</p>
<p><a href="https://shop.example.com/spring">See the collection</a></p>
</body></html>"""


class SlowSink(SmtpSink):
    """Takes a moment per message, so sending lasts long enough to watch."""

    def __init__(self) -> None:
        super().__init__()
        handle = RecordingHandler.handle_DATA

        async def slow(server, session, envelope):
            await asyncio.sleep(0.4)
            return await handle(self.handler, server, session, envelope)

        self.handler.handle_DATA = slow


def arrange(sink_port: int) -> int:
    async def go(session):
        await org_settings.save(
            session,
            org_settings.OrgSettings(
                organisation_name="Northwind Outfitters",
                postal_address="12 Harbour Road, Bristol BS1 4RN",
                default_from_name="Northwind",
                default_from_email="news@northwind.example",
            ),
        )
        email_list = await audience(session, 50, name="Spring launch")
        await smtp_server(session, sink_port)
        await templates.create_template(
            session,
            {"name": "Spring collection", "subject": "Spring is here", "html_content": TEMPLATE_HTML},
            created_by="Designer",
        )
        return email_list.id

    return run_db(go)


def link(html: str, pattern: str) -> str:
    return re.search(rf'(?:href|src)="([^"]*{pattern}[^"]*)"', html).group(1)


def test_wizard_to_sent_with_live_progress_and_engagement(editor, page, base_url):
    with SlowSink() as sink:
        arrange(sink.port)
        worker = WorkerProcess("e2e-worker", MAILROOM_BASE_URL=base_url, MAILROOM_SEND_BATCH_SIZE="5").start()
        try:
            run_wizard(page, base_url)
            watch_it_go(page)
        finally:
            worker.stop()
        messages = [m for m in sink.messages if not m["Subject"].startswith("[Test]")]
        tests = [m for m in sink.messages if m["Subject"].startswith("[Test]")]

    assert len(messages) == 50 and len({m["To"] for m in messages}) == 50
    assert [m["To"] for m in tests] == ["qa@northwind.example"]
    message = next(m for m in messages if m["To"] == "person7@example.com")
    assert message["Subject"] == "Spring is here, Person7"
    html = message.get_body(("html",)).get_content()
    assert "Hello Person7!" in html and "Company 0 gets early access" in html and "12 Harbour Road" in html

    engage(page, html)
    run_db(lambda session: apply_events())  # the worker that would apply them is stopped
    page.reload()
    expect(page.locator('[data-counter="opened"] .counter-value')).to_have_text("1")
    expect(page.locator('[data-counter="clicked"] .counter-value')).to_have_text("1")
    expect(page.locator('[data-counter="unsubscribed"] .counter-value')).to_have_text("1")
    expect(page.locator('[data-counter="opened"] .counter-rate')).to_have_text("2.0 %")
    shot(page, "campaign-sent")

    page.locator(".sidebar").get_by_role("link", name="Campaigns").click()
    row = page.locator("tbody tr", has_text="Spring launch")
    expect(row.locator(".badge")).to_have_text("sent")
    expect(row).to_contain_text("2.0 %")
    shot(page, "campaign-list")


def run_wizard(page, base_url: str, audience: str = "Spring launch", recipients: int = 50) -> None:
    """Sign in, create a campaign with the "Spring collection" template for the list named `audience`
    and send it; the live audience count and the review must show `recipients`."""
    sign_in_page(page, base_url, "editor@example.com")
    page.locator(".sidebar").get_by_role("link", name="Campaigns").click()
    expect(page.locator(".empty")).to_contain_text("No campaigns yet")
    page.get_by_role("link", name="Create your first campaign").click()

    expect(page.locator("#from_email")).to_have_value("news@northwind.example")  # organisation defaults
    page.fill("#name", "Spring launch")
    page.fill("#subject", "Spring is here, {{ first_name }}")
    page.get_by_role("button", name="Next: Audience →").click()

    expect(page.locator(".wizard-steps .current")).to_contain_text("Audience")
    expect(page.locator("#audience-count strong")).to_have_text("0")
    page.get_by_label(re.compile(audience)).check()
    expect(page.locator("#audience-count strong")).to_have_text(str(recipients))  # live, before saving
    shot(page, "campaign-audience")
    page.get_by_role("button", name="Next: Content →").click()

    page.select_option("#template_id", label="Spring collection")
    page.get_by_role("button", name="Use this template").click()
    expect(page.locator("#html_content")).to_have_value(re.compile("See the collection"))
    preview = page.frame_locator("#campaign-preview iframe")
    expect(preview.locator("h1")).to_have_text("Hello Jane!")
    page.locator("#html_content").press("End")
    page.locator("#html_content").type(" ")  # the preview follows typing
    expect(page.locator("#campaign-preview .preview-line")).to_contain_text("Spring is here, Jane")
    shot(page, "campaign-content")
    page.get_by_role("button", name="Next: Settings →").click()

    expect(page.get_by_label("Track clicks")).to_be_checked()
    page.get_by_role("button", name="Next: Review & send →").click()

    expect(page.locator(".review-count")).to_have_text(str(recipients))
    expect(page.locator(".review-problems")).to_have_count(0)
    expect(page.locator(".review-warnings")).to_contain_text("no {{ unsubscribe_url }} link")
    page.fill("#recipients", "qa@northwind.example")
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("#test-send .field-ok")).to_contain_text("Sent 1 test email")
    shot(page, "campaign-review")
    page.once("dialog", lambda dialog: dialog.accept())  # Send now asks first
    page.get_by_role("button", name="Send now").click()


def watch_it_go(page) -> None:
    badge = page.locator(".campaign-status h1 .badge")
    expect(badge).to_have_text("sending")
    percent = page.locator(".progress-percent")
    expect(percent).not_to_have_text(re.compile(r"^0\.0 %"), timeout=30_000)  # under way, live
    if badge.inner_text() == "sending":
        expect(page.locator(".progress-rate")).to_have_text(re.compile(r"/s$"))
        shot(page, "campaign-sending")
    expect(percent).to_have_text("100.0 %", timeout=60_000)
    expect(badge).to_have_text("sent", timeout=30_000)  # swapped in by the stream, no reload
    expect(page.get_by_role("link", name="Open the report")).to_be_visible()  # drawn with the status
    expect(page.locator(".progress-sent")).to_have_text("50")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.get_by_role("button", name="Duplicate")).to_be_visible()


def engage(page, html: str) -> None:
    """The recipient's side, in another tab, while the campaign page stays open."""
    pixel = page.request.get(link(html, "/u/o/"))
    assert pixel.status == 200 and pixel.headers["content-type"] == "image/gif"
    click = httpx.get(link(html, "/u/c/"), follow_redirects=False)
    assert click.status_code == 302 and click.headers["location"] == "https://shop.example.com/spring"
    inbox = page.context.new_page()
    inbox.goto(link(html, "/u/unsubscribe/"))
    expect(inbox.locator("#unsubscribe h1")).to_have_text("Unsubscribe?")
    more = inbox.get_by_role("link", name="Or choose what you receive")
    assert more.bounding_box()["height"] >= 24  # a tap target of its own size (WCAG 2.5.8)
    inbox.get_by_role("button", name="Unsubscribe").click()
    expect(inbox.locator("#unsubscribe h1")).to_have_text("You are unsubscribed")
    inbox.close()
