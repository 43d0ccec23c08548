"""In Chromium: an admin opens Settings → Audit log, sees an editor's sign-in and change, and narrows
the log to that editor's changes with the filters (the table follows without a reload)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.browser.test_campaign_e2e import shot
from tests.conftest import sign_in


def test_an_admin_reads_who_did_what_and_filters_it(admin, editor, page, base_url):
    as_editor = sign_in(base_url, editor.email)
    assert as_editor.post("/account", data={"name": "Eddie"}).status_code == 303
    as_editor.close()
    sign_in_page(page, base_url, admin.email)

    page.locator(".sidebar").get_by_role("link", name="Audit log").click()
    expect(page.locator("h1")).to_have_text("Audit log")
    rows = page.locator(".audit-table tbody tr")
    expect(rows.filter(has_text="POST /account")).to_have_count(1)
    expect(rows.filter(has_text="Signed in")).to_have_count(2)  # the editor, then the admin
    shot(page, "audit-log")

    # The account as it is named now; its events from before the rename are its too.
    page.get_by_label("Filter by person or API key").select_option(label="Eddie <editor@example.com>")
    expect(rows).to_have_count(2)  # the editor's sign-in and rename
    page.get_by_label("Filter by area").select_option("account")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("POST /account")
    expect(page).to_have_url(f"{base_url}/settings/audit-log?actor=user%3A{editor.id}&area=account")
