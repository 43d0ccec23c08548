"""The review step's time zone starts at the browser's zone, by its current name: Chromium reports
India's zone as Asia/Calcutta, a name the tz database keeps only as an alias of Asia/Kolkata."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign


@pytest.mark.browser_context_args(timezone_id="Asia/Kolkata")
def test_the_browsers_zone_is_preselected_by_its_current_name(admin, page, base_url):
    async def go(session):
        await ready_campaign(session, [(await audience(session, 1)).id])

    run_db(go)
    sign_in_page(page, base_url, admin.email)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Calcutta"
    page.goto(base_url + "/campaigns/1/review")
    expect(page.locator("select[data-browser-zone]")).to_have_value("Asia/Kolkata")
