"""Pages load every resource they ask for (no 404 favicon, no missing file), staff and public."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.subscriptions import public_list

ABORTED = "net::ERR_ABORTED"


def watch_failures(page) -> list[str]:
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    # A request the browser itself gave up on when the test moved to the next page (the icon is fetched
    # after the load event) is no failure of the server.
    page.on("requestfailed", lambda r: failures.append(f"{r.failure} {r.url}") if r.failure != ABORTED else None)
    return failures


def icon_of(page) -> str:
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("type", "image/svg+xml")
    href = icon.get_attribute("href")
    assert href
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml"), href
    return href


def test_a_staff_page_loads_without_a_failed_request(editor, page, base_url):
    failures = watch_failures(page)
    sign_in_page(page, base_url, editor.email)
    for path in ("/", "/campaigns", "/api/docs"):
        page.goto(base_url + path, wait_until="networkidle")
        assert icon_of(page).startswith("/static/img/favicon.svg?v="), path
    assert page.request.get(base_url + "/favicon.ico").status == 200
    assert failures == []


def test_a_public_page_loads_without_a_failed_request(clean, page, base_url):
    newsletter = run_db(lambda session: public_list(session, "Weekly"))
    failures = watch_failures(page)
    page.goto(f"{base_url}/subscribe/{newsletter.id}", wait_until="networkidle")
    expect(page.locator("h1")).to_contain_text("Weekly")
    icon_of(page)
    assert failures == []
