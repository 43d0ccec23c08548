"""Routing in Chromium, by keyboard alone: an admin writes a routing rule (domains, a kind, two
weighted transports), sets a domain throttle, and reads a transport's hourly figures behind
"Show as table" on the transports page."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import smtp_server
from webapp.routing.models import TransportHour


def relays() -> tuple[int, int]:
    async def go(session):
        a, b = await smtp_server(session, 2525, name="Relay A"), await smtp_server(session, 2526, name="Relay B")
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        session.add(TransportHour(transport=f"smtp:{a.id}", hour=hour, sent=42, deferred=3, latency_ms=900, timed=45))
        return a.id, b.id

    return run_db(go)


def tab_to(page, selector: str, presses: int = 80) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user moves through the page."""
    target = page.locator(selector)
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} was not reached by Tab")


def test_an_admin_writes_a_routing_rule_and_a_throttle_by_keyboard(admin, page, base_url):
    a, b = relays()
    sign_in_page(page, base_url, admin.email)
    page.goto(base_url + "/settings/routing/new")
    tab_to(page, "#name")
    page.keyboard.type("Microsoft split")
    tab_to(page, "#domains")
    page.keyboard.type("microsoft, example.org")
    tab_to(page, "#kind-marketing")
    page.keyboard.press("Space")
    tab_to(page, "#transport-0")
    page.keyboard.press("ArrowDown")  # the first transport: Relay A
    tab_to(page, "#weight-0")
    page.keyboard.type("70")
    tab_to(page, "#transport-1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # Relay B
    tab_to(page, "#weight-1")
    page.keyboard.type("30")
    page.keyboard.press("Enter")

    expect(page).to_have_url(base_url + "/settings/routing")
    expect(page.get_by_text("Routing rule 'Microsoft split' added.")).to_be_visible()
    row = page.locator("tr", has_text="Microsoft split")
    expect(row).to_contain_text("microsoft, example.org")
    expect(row).to_contain_text("marketing")
    expect(row).to_contain_text("Relay A (70)")
    expect(row).to_contain_text("Relay B (30)")

    page.goto(base_url + "/settings/throttles")
    tab_to(page, "#bucket")
    page.keyboard.type("gmail.com")
    tab_to(page, "#per_minute")
    page.keyboard.type("120")
    page.keyboard.press("Enter")
    expect(page.get_by_text("gmail.com: at most 120 messages a minute.")).to_be_visible()
    expect(page.locator("tr", has_text="gmail.com")).to_contain_text("120")

    page.goto(base_url + f"/settings/transports#transport-smtp-{a}-history")
    volume = page.locator(f"#transport-smtp-{a}-volume")
    expect(volume.get_by_role("img", name="Relay A: messages by hour")).to_be_visible()
    tab_to(page, f"#transport-smtp-{a}-volume summary")
    page.keyboard.press("Enter")
    expect(volume.locator("table")).to_contain_text("42")
    expect(page.locator(f"#transport-smtp-{b}-history")).to_contain_text("Nothing sent through it in this period.")
