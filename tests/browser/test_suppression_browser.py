"""An editor in Chromium: suppresses an address (with the inline check), pastes many with a bad line,
searches as they type, removes one with a reason; then erases a contact from its page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import settled, sign_in_page
from tests.conftest import run_db
from tests.support.screenshots import shot
from webapp.contacts import service as contacts


def test_editor_manages_the_suppression_list(editor, page, base_url):
    sign_in_page(page, base_url, editor.email)
    page.locator(".sidebar").get_by_role("link", name="Suppression").click()
    expect(page.locator("h1")).to_have_text("Suppression list")
    expect(page.locator(".empty")).to_contain_text("Nothing is suppressed")
    settled(page)  # reached by a boosted link: the inline check is wired up once HTMX has settled

    page.fill("#email", "ada@")
    expect(page.locator("#email-feedback .field-error")).to_contain_text("Not a valid address")
    page.fill("#email", "ada@example.com")
    expect(page.locator("#email-feedback .field-error")).to_have_text("")  # its slot stays, empty
    page.select_option("#reason", "complaint")
    page.get_by_role("button", name="Suppress", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("ada@example.com is suppressed (complaint)")
    expect(page.locator('[data-reason="complaint"] .stat-value')).to_have_text("1")

    page.fill("#addresses", "grace@example.com\nnot an address\nalan@example.com\nada@example.com")
    page.select_option("#bulk-reason", "unsubscribe")
    page.get_by_role("button", name="Suppress all").click()
    expect(page.locator(".paste-report")).to_contain_text("not an address")
    expect(page.locator(".paste-report td.num")).to_have_text("2")  # its line number
    expect(page.locator("#addresses")).to_have_value("not an address")
    expect(page.locator('[data-reason="unsubscribe"] .stat-value')).to_have_text("2")
    expect(page.locator("#suppression-results tbody tr")).to_have_count(3)
    shot(page, "suppression-index")

    page.fill("#email", "alan@example.com")
    expect(page.locator("#email-feedback")).to_contain_text("Already suppressed (unsubscribe")

    page.get_by_role("searchbox", name="Search addresses").press_sequentially("gr")
    expect(page.locator("#suppression-results tbody tr")).to_have_count(1)
    expect(page.locator("#suppression-results")).to_contain_text("grace@example.com")
    expect(page).to_have_url(re.compile(r"/suppression\?q=gr"))  # the search is in the address bar

    page.locator("#suppression-results tbody tr", has_text="grace@example.com").get_by_role(
        "link", name="Remove…"
    ).click()
    expect(page.locator("h1")).to_have_text("Remove from the suppression list")
    page.get_by_role("button", name="Remove from the list").click()
    expect(page.locator("#removal-reason-error")).to_contain_text("Say why")
    page.fill("#removal-reason", "Re-subscribed on paper")
    page.get_by_role("button", name="Remove from the list").click()
    expect(page.locator(".flash-success")).to_contain_text("grace@example.com was removed")
    expect(page.locator('[data-reason="unsubscribe"] .stat-value')).to_have_text("1")


def test_editor_erases_a_contact(editor, page, base_url):
    contact_id = run_db(lambda s: contacts.create_contact(s, {"email": "erase.me@example.com"})).id
    sign_in_page(page, base_url, editor.email)
    page.goto(f"{base_url}/contacts/{contact_id}")
    expect(page.get_by_role("link", name="Export data (JSON)")).to_have_attribute("download", "")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export data (JSON)").click()
    assert download.value.suggested_filename == f"contact-{contact_id}.json"
    page.get_by_role("link", name="Erase contact (GDPR)").click()
    page.fill("#confirm_email", "someone.else@example.com")
    page.get_by_role("button", name="Erase contact").click()
    expect(page.locator("#confirm_email-error")).to_contain_text("exactly")
    page.fill("#confirm_email", "erase.me@example.com")
    page.get_by_role("button", name="Erase contact").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Contact #{contact_id} was erased")
    page.locator(".sidebar").get_by_role("link", name="Suppression").click()
    expect(page.locator("#suppression-results tbody tr")).to_contain_text("(erased address)")
    expect(page.locator("#suppression-results")).not_to_contain_text("erase.me@example.com")
