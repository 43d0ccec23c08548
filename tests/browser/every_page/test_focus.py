"""What axe cannot see: where keyboard focus is (WCAG 2.4.7, 1.4.11) and how to skip the menu (2.4.1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.every_page.contrast import contrast
from tests.browser.every_page.inventory import Shown

CONTACT_FORM = Shown("contact-form", "/contacts/new")
SIGN_UP = Shown("sign-up", "/subscribe/{public_list}", signed_in=False)
PREFERENCES = Shown("preferences", "/u/preferences/{preferences_token}", signed_in=False)
REPORT = Shown("campaign-report", "/campaigns/{sent}/report")
COMPARE = Shown("campaigns-compare", "/campaigns/compare?campaigns={sent}")
NON_TEXT = 3.0  # WCAG 1.4.11: focus rings and the borders that show where to type

# The colour a control's focus ring is drawn in (outline or box-shadow; a chips box rings its whole box),
# and the nearest opaque background around it, which the ring has to stand out from.
RING = """(el) => {
  const box = el.closest(".chips-input") || el;
  const style = getComputedStyle(box);
  const shadow = style.boxShadow.match(/rgba?\\([^)]*\\)/);
  const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 ? style.outlineColor
             : shadow ? shadow[0] : null;
  let around = box.parentElement;
  while (around && getComputedStyle(around).backgroundColor === "rgba(0, 0, 0, 0)") around = around.parentElement;
  return { ring, around: around ? getComputedStyle(around).backgroundColor : "rgb(255, 255, 255)" };
}"""


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element is focused, as a keyboard user gets there."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reached by Tab")


SAMPLES = [
    (CONTACT_FORM, "main .breadcrumb a"),
    (CONTACT_FORM, "#first_name"),
    (CONTACT_FORM, "#status"),
    (CONTACT_FORM, "#is_active"),
    (CONTACT_FORM, ".chips-input input"),
    (CONTACT_FORM, "main button.primary"),
    (CONTACT_FORM, ".sidebar a[href='/lists']"),
    (SIGN_UP, "#email"),
    (SIGN_UP, "button[type=submit]"),
    (SIGN_UP, ".languages a"),
    (PREFERENCES, "input[type=checkbox]"),
    (PREFERENCES, "select"),
    (REPORT, ".chart-data summary"),
    (COMPARE, "#campaigns"),
]


@pytest.mark.parametrize(("shown", "selector"), SAMPLES, ids=[f"{s.name}:{sel}" for s, sel in SAMPLES])
def test_keyboard_focus_ring_stands_out(shown, selector, page, base_url, showcase):
    shown.open(page, base_url, showcase)
    tab_to(page, selector)
    seen = page.locator(selector).first.evaluate(RING)
    assert seen["ring"], f"{selector} shows no focus ring"
    ratio = contrast(seen["ring"], seen["around"])
    assert ratio >= NON_TEXT, f"{selector}: focus ring {seen['ring']} on {seen['around']} is {ratio:.2f}:1"


BORDERED = [
    (CONTACT_FORM, "#first_name"),
    (CONTACT_FORM, "#status"),
    (CONTACT_FORM, ".chips-input"),
    (SIGN_UP, "#email"),
    (PREFERENCES, "select"),
]


@pytest.mark.parametrize(("shown", "selector"), BORDERED, ids=[f"{s.name}:{sel}" for s, sel in BORDERED])
def test_input_border_stands_out(shown, selector, page, base_url, showcase):
    shown.open(page, base_url, showcase)
    colours = page.locator(selector).first.evaluate(
        "(el) => [getComputedStyle(el).borderTopColor, getComputedStyle(el).backgroundColor]"
    )
    ratio = contrast(*colours)
    assert ratio >= NON_TEXT, f"{selector}: border {colours[0]} on {colours[1]} is {ratio:.2f}:1"


@pytest.mark.parametrize("shown", [CONTACT_FORM, SIGN_UP], ids=lambda shown: shown.name)
def test_skip_link_comes_first_and_jumps_to_the_main_content(shown, page, base_url, showcase):
    shown.open(page, base_url, showcase)
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to main content")
    expect(skip).to_have_attribute("href", "#main")
    expect(skip).to_be_in_viewport()
    assert skip.bounding_box()["width"] > 20, "the skip link must be visible when focused"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#main :focus")).to_have_count(1)
