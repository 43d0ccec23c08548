"""Controls a screen reader can tell apart, and errors it hears with their field."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.every_page.inventory import Shown

WIZARD_REVIEW = Shown("wizard-review", "/campaigns/{ready}/review")
CONTACT_FORM = Shown("contact-form", "/contacts/new")


def test_change_links_on_the_wizard_review_say_what_they_change(page, base_url, showcase):
    WIZARD_REVIEW.open(page, base_url, showcase)
    links = page.get_by_role("link", name=re.compile("^Change"))
    names = [link.evaluate("(a) => a.textContent.replace(/\\s+/g, ' ').trim()") for link in links.all()]
    assert sorted(names) == ["Change audience", "Change content", "Change subject"], names


def test_contact_email_error_is_tied_to_its_field(page, base_url, showcase):
    """As the inline check answers, not only after the form is sent: a screen reader hears the
    error when it comes back to the field."""
    CONTACT_FORM.open(page, base_url, showcase)
    email = page.locator("#email")
    email.fill("not-an-address")
    email.press("Tab")
    error = page.locator("#email-error")
    expect(error).to_contain_text("Not a valid address")
    expect(email).to_have_attribute("aria-invalid", "true")
    assert "email-error" in (email.get_attribute("aria-describedby") or "").split()
    email.fill("someone.new@example.com")
    email.press("Tab")
    expect(error).to_have_text("")  # its slot stays, empty
    expect(email).not_to_have_attribute("aria-invalid", "true")
