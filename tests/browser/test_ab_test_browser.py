"""The wizard's A/B test step in Chromium, by keyboard only: a variant is added and removed with
its buttons, Enter in a field saves the test, and the review step then summarises it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import settled, sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign


def test_a_variant_is_added_and_removed_by_keyboard_and_enter_saves_the_test(admin, page, base_url):
    async def go(session):
        await ready_campaign(session, [(await audience(session, 3)).id])

    run_db(go)
    sign_in_page(page, base_url, admin.email)
    page.goto(base_url + "/campaigns/1/ab-test")
    page.fill("#variants-1-subject", "Last chance")

    page.get_by_role("button", name="+ Add a variant").press("Enter")
    settled(page)
    expect(page.locator("#variants-2-label")).to_have_value("C")
    expect(page.locator("#variants-1-subject")).to_have_value("Last chance")  # what was typed is kept
    page.fill("#variants-2-preheader", "Two days left")

    page.get_by_role("button", name="Remove variant B").press("Enter")
    settled(page)
    expect(page.locator("#variants-1-label")).to_have_value("C")
    expect(page.locator("#variants-2-label")).to_have_count(0)

    page.press("#variants-1-preheader", "Enter")
    expect(page).to_have_url(re.compile(r"/campaigns/1/review$"))
    expect(page.locator("#flashes")).to_contain_text("Saved the A/B test of 2 variants.")
    expect(page.locator(".review-summary")).to_contain_text("2 variants: A (control), C;")
