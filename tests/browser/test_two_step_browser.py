"""An editor turns two-step sign-in on in Chromium (the key from the page into an authenticator,
here pyotp), keeps the recovery codes, and signs in again with password and code; the pages pass axe."""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.browser.every_page.axe import report, violations
from tests.conftest import TEST_PASSWORD


def test_an_editor_turns_two_step_sign_in_on_and_signs_in_with_a_code(editor, page, base_url):
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/account")
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert not (found := violations(page)), report(found)
    app = pyotp.TOTP(page.locator("#setup-key").inner_text().replace(" ", ""))

    page.fill("#code", app.now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#two-step")).to_contain_text("10 recovery codes left")

    page.locator(".whoami").get_by_role("button", name="Sign out").click()
    page.goto(base_url + "/login")
    page.fill("#email", editor.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Two-step sign-in")
    expect(page.locator("#code")).to_be_focused()
    assert not (found := violations(page)), report(found)
    page.fill("#code", app.at(time.time() + 30))  # the next step's code: the set-up spent this one's
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Dashboard")
