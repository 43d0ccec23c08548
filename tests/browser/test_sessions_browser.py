"""An editor signed in on a laptop and a phone signs the phone out from the laptop's account page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.browser.every_page.axe import report, violations

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_a_session_on_another_device_is_signed_out_from_the_account_page(editor, page, browser, base_url):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=IPHONE).new_page()
    sign_in_page(phone, base_url, editor.email)
    sign_in_page(page, base_url, editor.email)

    page.goto(base_url + "/account")
    rows = page.locator("#session-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("this browser")
    expect(rows.nth(1)).to_contain_text("Mobile Safari 18 on iOS")
    assert not (found := violations(page)), report(found)

    page.get_by_role("button", name="Sign out Mobile Safari 18 on iOS at 127.0.0.1").click()
    expect(page.locator(".flash")).to_contain_text("That session is signed out.")
    expect(rows).to_have_count(1)

    phone.goto(base_url + "/campaigns")
    expect(phone).to_have_url(re.compile(r"/login\?next=/campaigns$"))
    page.goto(base_url + "/campaigns")
    expect(page.locator("h1")).to_have_text("Campaigns")
    phone.context.close()
