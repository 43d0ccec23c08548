"""Announcements in Chromium (issue 13): what changes under a person's hands is said in a live
region that stays in the page while only its contents change (screen readers often say nothing
when the region itself is replaced). Each test marks the region's node, makes it change, and checks
the same node now says something else."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settled, sign_in_page
from tests.browser.test_keyboard import arrange


@pytest.fixture
def signed_in(editor, page, base_url):
    arrange()
    sign_in_page(page, base_url, editor.email)
    return page


def live_region(page, selector: str):
    """The region, after checking it is one, marked so that a replacement would be noticed."""
    region = page.locator(selector)
    expect(region).to_have_count(1)
    assert region.evaluate("e => e.getAttribute('aria-live') || e.getAttribute('role')") in ("polite", "status")
    region.evaluate("e => { e.keptNode = true }")
    return region


def still_the_same_node(region) -> bool:
    return region.evaluate("e => e.keptNode === true")


def test_contact_search_says_how_many_match(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/contacts")
    region = live_region(page, "#contacts-count")
    expect(region).to_have_text("60 contacts")
    page.get_by_role("searchbox", name="Search contacts").press_sequentially("person1", delay=40)
    expect(region).to_have_text("11 contacts match")
    page.get_by_role("searchbox", name="Search contacts").press_sequentially("x")
    expect(region).to_have_text("No contacts match")
    assert still_the_same_node(region)


def test_the_segment_count_changes_in_place(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/lists/segments/new")
    shown = page.locator("#segment-count")
    region = live_region(page, "#segment-count-said")  # the sentence alone, not the table of contacts under it
    expect(shown).to_contain_text("60 contacts match now")
    page.locator("#g-0-row > .seg-actions").get_by_role("button", name="+ Condition").click()  # the builder's answer
    expect(shown).to_contain_text("Fill in each condition's value")
    expect(region).to_have_text(re.compile(r"^Fill in each condition's value"))
    settled(page)
    page.locator('[id="c-0.0-value"]').press_sequentially("person1@example.com")  # the count's own answer
    expect(shown).to_contain_text("1 contact matches now")
    expect(region).to_have_text("1 contact matches now")
    assert still_the_same_node(region)


def test_the_wizard_audience_count_changes_in_place(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/campaigns/1/audience")
    region = live_region(page, "#audience-count")
    expect(region).to_contain_text("60 recipients")
    page.locator("input[name=list_ids]").first.uncheck()
    expect(region).to_contain_text("0 recipients")
    assert still_the_same_node(region)


def test_the_inline_email_check_changes_in_place(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/contacts/new")
    region = live_region(page, "#email-feedback")
    page.fill("#email", "person1@example.com")
    page.press("#email", "Tab")
    expect(region).to_contain_text("already used by contact #2")
    page.fill("#email", "grace@")
    page.press("#email", "Tab")
    expect(region).to_contain_text("Not a valid address")
    assert still_the_same_node(region)


def test_flashes_change_in_place_when_a_page_follows(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/campaigns/1/details")
    region = live_region(page, "#flashes")
    expect(region).to_have_text("")
    page.get_by_role("button", name="Save draft").click()
    expect(region).to_have_text("Draft saved.")
    assert still_the_same_node(region)
    page.get_by_role("link", name="Contacts", exact=True).click()
    expect(page.locator("h1")).to_have_text("Contacts")
    expect(region).to_have_text("")  # a page without news clears it
    assert still_the_same_node(region)
