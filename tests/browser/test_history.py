"""A form sent back with its mistakes leaves the address bar where it was: htmx would show the
form's action there, an address that answers POST only, so a reload or a bookmark got 405."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from webapp.automations.service import automations

MANUAL = {"kind": "manual"}


def test_a_refused_save_or_publish_keeps_the_address_and_a_reload_opens_the_page(editor, page: Page, base_url):
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/lists/segments/new")
    page.fill("#name", "No rules yet")
    page.get_by_role("button", name="Create segment").click()
    expect(page.locator(".error-summary")).to_contain_text("Nothing was saved")
    expect(page).to_have_url(base_url + "/lists/segments/new")
    assert page.reload().status == 200
    expect(page.locator("h1")).to_have_text("New segment")

    automation = run_db(lambda db: automations.create(db, {"name": "Empty", "trigger": MANUAL}))
    page.goto(f"{base_url}/automations/{automation.id}")
    page.get_by_role("button", name=re.compile("^Publish version 1")).click()
    expect(page.locator("main")).to_contain_text("Add at least one step before publishing.")
    expect(page).to_have_url(f"{base_url}/automations/{automation.id}")
    assert page.reload().status == 200
