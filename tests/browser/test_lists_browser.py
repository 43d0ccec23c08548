"""An admin in Chromium: creates a list, pastes addresses, removes one, archives the list, and
creates an API key that is shown once."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.support.screenshots import shot


def test_admin_builds_a_list_by_pasting_addresses(admin, page, base_url):
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    sign_in_page(page, base_url, admin.email)
    page.locator(".sidebar").get_by_role("link", name="Lists").click()
    expect(page.locator(".empty")).to_contain_text("No lists yet")

    page.get_by_role("link", name="Create your first list").click()
    expect(page.locator('#list_type option[value="dynamic"]')).to_be_disabled()
    page.fill("#name", "Spring launch")
    page.fill("#description", "Everyone who asked to hear about the spring launch.")
    chips = page.locator(".chips-input input")
    for tag in ["launch", "VIP"]:
        chips.fill(tag)
        chips.press("Enter")
    expect(page.locator(".chips-input .chip")).to_have_count(2)
    page.get_by_role("button", name="Create list").click()
    expect(page.locator("h1")).to_contain_text("Spring launch")
    expect(page.locator(".flash-success")).to_contain_text("List 'Spring launch' created.")

    page.fill("#addresses", "ada@example.com\ngrace@example.com, alan@example.com\nnot-an-address\nlinus@example.org")
    page.get_by_role("button", name="Add to list").click()
    expect(page.locator(".stat-value")).to_have_text("4")
    expect(page.locator(".paste-report")).to_contain_text("not-an-address")
    expect(page.locator("#addresses")).to_have_value("not-an-address")
    expect(page.locator("#list-members tbody tr")).to_have_count(4)
    shot(page, "list-detail")

    page.locator("#list-members tbody tr", has_text="alan@example.com").locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Remove from list").click()
    expect(page.locator(".flash-success")).to_contain_text("Removed 1 contact from the list.")
    expect(page.locator(".stat-value")).to_have_text("3")
    expect(page.locator("#list-members")).not_to_contain_text("alan@example.com")

    page.get_by_role("button", name="Archive").click()
    expect(page.locator("h1 .badge")).to_have_text("archived")
    expect(page.get_by_role("button", name="Restore")).to_be_visible()

    page.locator(".sidebar").get_by_role("link", name="Lists").click()
    row = page.locator("tbody tr", has_text="Spring launch")
    expect(row).to_contain_text("archived")
    expect(row.locator("td.num")).to_have_text("3")
    expect(row.locator(".chip")).to_have_text(["launch", "vip"])
    page.set_viewport_size({"width": 1280, "height": 600})
    shot(page, "lists")


def test_admin_sees_a_new_api_key_once(admin, page, base_url):
    sign_in_page(page, base_url, admin.email)
    page.get_by_role("link", name="API keys").click()
    page.fill("#name", "CRM sync")
    page.select_option("#role", "viewer")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("h1")).to_have_text("API key created")
    key = page.locator(".secret").inner_text().strip()
    assert re.fullmatch(r"mr_[\w-]{40,}", key)
    expect(page.locator(".card")).to_contain_text("it will not be shown again")
    shot(page, "api-key-created")

    page.get_by_role("link", name="Done, I copied it").click()
    expect(page.locator("tbody tr", has_text="CRM sync")).to_contain_text("viewer")
    assert key not in page.content()
    page.reload()
    assert key not in page.content()
