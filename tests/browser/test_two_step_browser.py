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
    page.get_by_label("Don't ask for a code on this browser for 30 days").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Dashboard")

    page.locator(".whoami").get_by_role("button", name="Sign out").click()  # this browser is remembered
    expect(page).to_have_url(base_url + "/login")
    page.fill("#email", editor.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Dashboard")


def test_an_admin_requires_it_and_an_editor_without_it_is_led_to_set_it_up(admin, editor, page, base_url):
    """The admin, who has not set it up either, is led there at once; the editor at sign-in, and
    once it is on, the page they asked for opens."""
    sign_in_page(page, base_url, admin.email)
    page.goto(base_url + "/settings/users")
    expect(page.locator("#two-step-policy")).to_contain_text("2 active accounts have not set it up yet.")
    page.get_by_label("Require two-step sign-in for every staff member").check()
    page.locator("#two-step-policy").get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Set up two-step sign-in")
    expect(page.locator(".flash-warning")).to_have_text(
        "Set up two-step sign-in first: it is required for every staff member."
    )
    page.locator(".whoami").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(base_url + "/login")

    page.goto(base_url + "/login?next=/campaigns")
    page.fill("#email", editor.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Set up two-step sign-in")
    expect(page.locator(".page-intro")).to_contain_text("requires two-step sign-in for every staff member")
    expect(page.get_by_role("link", name="Cancel")).to_have_count(0)
    assert not (found := violations(page)), report(found)
    with page.expect_navigation():  # back to this page: wait for it, or the code goes into the page being left
        page.get_by_role("link", name="Campaigns").click()  # the menu leads back here until it is done
    expect(page.locator("h1")).to_have_text("Set up two-step sign-in")

    page.fill("#code", pyotp.TOTP(page.locator("#setup-key").inner_text().replace(" ", "")).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#two-step")).to_contain_text("10 recovery codes left")
    page.get_by_role("link", name="Campaigns").click()
    expect(page.locator("h1")).to_have_text("Campaigns")
