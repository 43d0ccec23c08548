from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import TEST_PASSWORD
from webapp.staff.service import password_reset


def test_staff_member_signs_in_and_sees_the_dashboard(editor, page, base_url):
    sign_in_page(page, base_url, editor.email)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator(".whoami")).to_contain_text("editor")


def test_a_viewer_changes_their_own_password_from_the_menu(viewer, page, base_url):
    sign_in_page(page, base_url, viewer.email)
    page.locator(".whoami").get_by_role("link", name=viewer.name).click()
    expect(page.locator("h1")).to_have_text("Your account")

    page.fill("#current_password", "not my password")
    page.fill("#password", "a brand new password")
    page.fill("#password_confirm", "a brand new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#current_password-error")).to_have_text("That is not your current password.")
    expect(page.locator("#current_password")).to_have_attribute("aria-invalid", "true")

    page.fill("#current_password", TEST_PASSWORD)
    page.fill("#password", "a brand new password")
    page.fill("#password_confirm", "a brand new password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".flash-success")).to_contain_text("Your password is changed")

    page.locator(".whoami").get_by_role("button", name="Sign out").click()
    sign_in_page(page, base_url, viewer.email, "a brand new password")
    expect(page.locator("h1")).to_have_text("Dashboard")


def test_a_forgotten_password_is_asked_for_and_chosen_anew(editor, page, base_url):
    page.goto(base_url + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.locator("h1")).to_have_text("Forgot your password?")  # not the sign-in page's own #email
    page.fill("#email", editor.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status")).to_contain_text(f"If {editor.email} has an active staff account")

    page.goto(f"{base_url}/login/reset/{password_reset.reset_token(editor)}")  # the emailed link
    page.fill("#password", "a brand new password")
    page.fill("#password_confirm", "a brand new passwort")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator("#password_confirm-error")).to_contain_text("differ")
    page.fill("#password", "a brand new password")
    page.fill("#password_confirm", "a brand new password")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator(".flash-success")).to_contain_text("Your password is changed")
    sign_in_page(page, base_url, editor.email, "a brand new password")
    expect(page.locator("h1")).to_have_text("Dashboard")
