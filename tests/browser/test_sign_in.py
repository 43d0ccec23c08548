from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page


def test_staff_member_signs_in_and_sees_the_dashboard(editor, page, base_url):
    sign_in_page(page, base_url, editor.email)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator(".whoami")).to_contain_text("editor")
