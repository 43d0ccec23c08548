"""A 390 px phone (WCAG 1.4.10 reflow, 2.5.8 target size): every page fits the screen, the staff menu
folds away behind a Menu control that works by keyboard and without JavaScript."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import Page, expect

from tests.browser.every_page.inventory import EVERY_PAGE, Shown

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CONTACTS = Shown("contacts", "/contacts")
CAMPAIGN = Shown("campaign-sent", "/campaigns/{sent}")
CAMPAIGNS = Shown("campaigns", "/campaigns")
MIN_TARGET = 24  # CSS pixels, WCAG 2.5.8


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


# What sticks out, to name in the failure: the innermost elements reaching past the screen's right edge.
WIDEST = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const right = (e) => Math.round(e.getBoundingClientRect().right);
  const out = (e) => right(e) > edge;
  return [...document.querySelectorAll("body *")].filter((e) => out(e) && ![...e.children].some(out)).slice(0, 8)
    .map((e) => `\\n  ${e.tagName.toLowerCase()}.${e.className} ends at ${right(e)} px`);
}"""


@pytest.mark.parametrize("shown", EVERY_PAGE, ids=lambda shown: shown.name)
def test_page_fits_a_phone_without_sideways_scrolling(shown, phone, base_url, showcase):
    shown.open(phone, base_url, showcase)
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{shown.name} is {widths[0]} px wide on a {widths[1]} px screen" + "".join(
        phone.evaluate(WIDEST)
    )


def test_menu_folds_away_and_opens_by_keyboard(phone, base_url, showcase):
    phone.goto(base_url + "/")
    menu = phone.get_by_role("navigation", name="Main")
    campaigns = menu.get_by_role("link", name="Campaigns")
    expect(campaigns).to_be_hidden()
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
    toggle = menu.get_by_text("Menu", exact=True)
    for _ in range(10):
        phone.keyboard.press("Tab")
        if toggle.evaluate("(el) => el === document.activeElement"):
            break
    expect(toggle).to_be_focused()
    phone.keyboard.press("Enter")
    expect(campaigns).to_be_visible()
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")
    expect(campaigns).to_be_focused()  # after Dashboard
    phone.keyboard.press("Enter")
    phone.wait_for_url(base_url + "/campaigns")


def test_menu_opens_without_javascript(signed_in_context, browser, base_url, showcase):
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=False, storage_state=signed_in_context.storage_state()
    )
    page = context.new_page()
    page.goto(base_url + "/contacts")
    settings = page.get_by_role("link", name="SMTP servers")
    expect(settings).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(settings).to_be_visible()
    context.close()


def test_menu_is_always_open_on_a_wide_screen(page, base_url, showcase):
    page.set_viewport_size(DESKTOP)
    page.goto(base_url + "/")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()


@pytest.mark.parametrize("shown", [CAMPAIGNS, CAMPAIGN], ids=lambda shown: shown.name)
def test_wide_tables_scroll_in_a_labelled_region_of_their_own(shown, phone, base_url, showcase):
    shown.open(phone, base_url, showcase)
    regions = phone.locator("main .table-wrap")
    assert regions.count() > 0
    for region in regions.all():
        expect(region).to_have_attribute("role", "region")
        expect(region).to_have_attribute("tabindex", "0")
        assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
    widest = regions.first.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert widest[0] > widest[1], "this table is wider than a phone: it scrolls inside its region"


def test_contacts_are_cards_that_fit_a_phone(phone, base_url, showcase):
    CONTACTS.open(phone, base_url, showcase)
    region = phone.locator("main .table-wrap")
    assert region.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "the contacts table scrolls sideways"
    card = phone.locator(".contacts-table tbody tr").first
    boxes = [card.locator(f"td.{name}").bounding_box() for name in ("email", "added")]
    assert boxes[0] and boxes[1] and boxes[1]["y"] > boxes[0]["y"]  # one contact's cells stacked, not side by side
    expect(phone.locator(".contacts-table th", has_text="Company")).to_have_count(1)  # headers kept for screen readers


SMALL_TARGETS = """([scope, min]) => [...document.querySelectorAll(
      `${scope} :is(a[href], button, input, select, textarea, summary)`)]
  .filter((el) => el.type !== "hidden" && el.getClientRects().length)
  .filter((el) => !(el.matches("a") && el.closest("p")))  // a link in a sentence is exempt (2.5.8 "inline")
  .map((el) => [el, (el.closest("label") || el).getBoundingClientRect()])  // its label is part of the target
  .filter(([, box]) => box.width < min || box.height < min)
  .map(([el, box]) => `${el.outerHTML.slice(0, 80)} ${Math.round(box.width)}x${Math.round(box.height)}`)"""


@pytest.mark.parametrize(
    ("shown", "scope"),
    [(CONTACTS, "main"), (CONTACTS, "nav"), (Shown("contact-edit", "/contacts/{contact}/edit"), ".chips-input")],
    ids=["contacts", "menu bar", "tag chips"],
)
def test_controls_are_big_enough_to_tap(phone, base_url, showcase, shown, scope):
    shown.open(phone, base_url, showcase)
    expect(phone.locator(scope).first).to_be_visible()
    small = phone.evaluate(SMALL_TARGETS, [scope, MIN_TARGET])
    assert small == [], f"{len(small)} controls under {MIN_TARGET}x{MIN_TARGET} px:\n" + "\n".join(small[:15])


def test_escape_closes_the_menu_and_the_keyboard_goes_on_from_its_button(phone, base_url, showcase):
    phone.goto(base_url + "/")
    toggle = phone.get_by_role("navigation", name="Main").get_by_text("Menu", exact=True)
    toggle.click()
    campaigns = phone.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")
    campaigns.focus()
    phone.keyboard.press("Escape")
    expect(campaigns).to_be_hidden()
    expect(toggle).to_be_focused()


def test_the_menu_bar_is_tabbed_in_the_order_it_is_seen(phone, base_url, showcase):
    phone.goto(base_url + "/")
    bar = phone.get_by_role("navigation", name="Main")
    controls = bar.locator(":is(a[href], summary, button):visible")
    seen = controls.evaluate_all(
        """(all) => all.map((e) => { const r = e.getBoundingClientRect(); return [Math.round(r.top), r.left]; })"""
    )
    for (top, left), (next_top, next_left) in itertools.pairwise(seen):
        same_line = abs(next_top - top) < 20
        assert (same_line and next_left > left) or next_top > top + 20, f"Tab goes back up or left: {seen}"
