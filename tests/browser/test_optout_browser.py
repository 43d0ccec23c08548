"""An editor in Chromium meets an unsubscribed contact: one clear state on its page, the form refusing
to make it active, and a re-permission request sent (and refused a second time within the hour)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import settled, sign_in_page
from tests.conftest import run_db
from webapp.contacts import service as contacts
from webapp.lists.models import EmailList


def arrange() -> int:
    async def go(session):
        session.add(EmailList(name="Newsletter"))
        contact = await contacts.create_contact(
            session, {"email": "gone@example.com", "first_name": "Gone", "status": "unsubscribed"}
        )
        return contact.id

    return run_db(go)


def test_editor_cannot_reactivate_but_can_ask_again(editor, page, base_url):
    contact_id = arrange()
    sign_in_page(page, base_url, editor.email)
    page.goto(f"{base_url}/contacts/{contact_id}")
    state = page.locator("#contact-state")
    expect(state.locator(".badge")).to_have_text("Unsubscribed")
    expect(state).to_contain_text("Only they can opt in again")
    expect(page.locator("dt", has_text="Active")).to_have_count(0)

    page.get_by_role("link", name="Edit", exact=True).click()
    settled(page)
    page.select_option("#status", "active")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#status-error")).to_contain_text("Only they can opt in again")
    expect(page.locator("#status")).to_have_value("active")  # what was chosen is kept

    page.goto(f"{base_url}/contacts/{contact_id}")
    page.get_by_role("link", name="Send a re-permission request").click()
    expect(page.locator("h1")).to_have_text("Send a re-permission request")
    settled(page)
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#list_id-error")).to_contain_text("Choose the list")
    page.select_option("#list_id", label="Newsletter")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".flash-success")).to_contain_text("is on its way to gone@example.com")
    expect(page.locator("#contact-state .badge")).to_have_text("Unsubscribed")  # until they confirm

    page.get_by_role("link", name="Send a re-permission request").click()
    settled(page)
    page.select_option("#list_id", label="Newsletter")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#list_id-error")).to_contain_text("Try again in")
