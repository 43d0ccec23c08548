"""Keyboard use in Chromium (issue 13): Enter does each staff form's primary action, the campaign
wizard's buttons are tabbed in the order they are seen with Next as the default, Save draft and
Send now say what they do, and focus lands somewhere useful after each partial update."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func

from tests.browser.conftest import settled, sign_in_page
from tests.browser.test_security_browser import arrange as arrange_every_page
from tests.browser.test_security_browser import html_pages
from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign
from webapp.campaigns.models import Campaign
from webapp.suppression.service import suppression
from webapp.templates.service import templates


def arrange() -> None:
    """60 contacts (ids 1-60, more than a page) on list 1, draft campaign 1 ready to send to it,
    template 1."""

    async def go(session):
        email_list = await audience(session, 60, name="Spring launch")
        await ready_campaign(session, [email_list.id])
        await templates.create_template(
            session, {"name": "Welcome", "subject": "Hi", "html_content": "<p>Hi</p>"}, created_by="tests"
        )

    run_db(go)


@pytest.fixture
def signed_in(admin, page, base_url):
    arrange()
    sign_in_page(page, base_url, admin.email)
    return page


def focused(page) -> str:
    """The focused element, as its id or its text."""
    return page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")


# form: (page, the text field Enter is pressed in, what is typed there, where the primary action
# leads, the message it leaves)
ENTER_DOES_THE_PRIMARY_ACTION = {
    "new contact": ("/contacts/new", "#email", "new@example.com", r"/contacts/\d+$", "Contact added."),
    "edit contact": ("/contacts/1/edit", "#company", "Acme", r"/contacts/1$", "Changes saved."),
    "new campaign": ("/campaigns/new", "#name", "Autumn", r"/campaigns/2/audience$", "Draft 'Autumn' saved."),
    "campaign details": ("/campaigns/1/details", "#subject", "Hi there", r"/campaigns/1/audience$", ""),
    "A/B test": ("/campaigns/1/ab-test", "#variants-1-subject", "Last chance", r"/campaigns/1/review$",
                 "Saved the A/B test of 2 variants."),
    "new list": ("/lists/new", "#name", "Friends", r"/lists/\d+$", "List 'Friends' created."),
    "template": ("/templates/1", "#name", "Welcome back", r"/templates/1$", "Template 'Welcome back' saved."),
    "organisation": ("/settings/organisation", "#organisation_name", "Northwind", r"/settings/organisation$",
                     "Organisation settings saved."),
    "suppression": ("/suppression", "#email", "gone@example.com", r"/suppression$", "gone@example.com is suppressed"),
}  # fmt: skip


@pytest.mark.parametrize("form", ENTER_DOES_THE_PRIMARY_ACTION)
def test_enter_in_a_text_field_does_the_forms_primary_action(signed_in, base_url, form):
    page = signed_in
    path, field, typed, lands_on, message = ENTER_DOES_THE_PRIMARY_ACTION[form]
    page.goto(base_url + path)
    page.fill(field, typed)
    page.press(field, "Enter")
    expect(page).to_have_url(re.compile(lands_on))
    if message:
        expect(page.locator("#flashes")).to_contain_text(message)


# Enter clicks a form's first submit button (in tree order, which is the order on screen). In each
# form with a primary button, that must be the primary button or its unseen copy (default_button).
# The segment builder's default is on purpose "update the rules and the count", not "save".
FIRST_SUBMIT_BUTTONS_THAT_ARE_NOT_THE_PRIMARY = """() => Array.from(document.forms).flatMap((form) => {
  const submits = Array.from(form.elements).filter((e) => e.type === "submit");
  const primary = submits.find((e) => e.classList.contains("primary"));
  const first = submits[0];
  if (!primary || first === primary || form.id === "segment-form") return [];
  const copy = first.classList.contains("visually-hidden") && first.name === primary.name
    && first.value === primary.value && first.getAttribute("formaction") === primary.getAttribute("formaction");
  return copy ? [] : [`${form.id || form.getAttribute("action")}: ${first.textContent.trim()}`];
})"""


def test_in_every_staff_form_enter_clicks_the_primary_button(admin, page, base_url):
    arrange_every_page()
    sign_in_page(page, base_url, admin.email)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    wrong = {}
    for path in html_pages(base_url, cookies):
        page.goto(base_url + path)
        if found := page.evaluate(FIRST_SUBMIT_BUTTONS_THAT_ARE_NOT_THE_PRIMARY):
            wrong[path] = found
    assert wrong == {}


def test_without_javascript_enter_saves_and_add_field_still_adds_a_row(admin, browser, base_url):
    arrange()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_page(page, base_url, admin.email)
    page.goto(base_url + "/contacts/new")
    page.fill("#email", "nojs@example.com")
    page.locator("input[name=cf_key]").fill("plan")
    page.locator("input[name=cf_value]").fill("pro")
    page.get_by_role("button", name="+ Add field").click()  # the form again, with an empty row after
    expect(page.locator("input[name=cf_key]")).to_have_count(2)
    page.press("#email", "Enter")
    expect(page).to_have_url(re.compile(r"/contacts/\d+$"))
    expect(page.locator("#flashes")).to_have_text("Contact added.")
    expect(page.locator(".contact-detail")).to_contain_text("plan")
    context.close()


def test_the_wizard_tabs_through_its_buttons_in_the_order_they_are_seen(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/campaigns/1/audience")
    buttons = page.locator(".wizard-nav button:visible")
    expect(buttons).to_have_text(["← Back", "Save draft", "Next: Content →"])
    lefts = [buttons.nth(i).bounding_box()["x"] for i in range(3)]
    assert lefts == sorted(lefts), "the buttons are not laid out in the order they are tabbed through"
    buttons.first.focus()
    tabbed = [focused(page)]
    for _ in range(2):
        page.keyboard.press("Tab")
        tabbed.append(focused(page))
    assert tabbed == ["← Back", "Save draft", "Next: Content →"]

    page.locator("input[name=list_ids]").first.press("Enter")  # Enter goes forward
    expect(page).to_have_url(re.compile(r"/campaigns/1/content$"))
    page.locator(".wizard-nav button", has_text="Next").click()  # content: no single-line field to press Enter in
    expect(page).to_have_url(re.compile(r"/campaigns/1/settings$"))
    page.locator("input[type=checkbox]").first.press("Enter")
    expect(page).to_have_url(re.compile(r"/campaigns/1/review$"))


def test_save_draft_says_it_saved(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/campaigns/1/details")
    page.fill("#subject", "Changed")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#flashes")).to_have_text("Draft saved.")
    expect(page).to_have_url(re.compile(r"/campaigns/1/details$"))
    expect(page.locator("#subject")).to_have_value("Changed")


def campaign_status() -> str:
    async def go(session):
        return (await session.get(Campaign, 1)).status

    return run_db(go)


def test_send_now_on_the_review_asks_first_as_the_campaign_page_does(signed_in, base_url):
    page = signed_in
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.goto(base_url + "/campaigns/1")
    page.locator(".campaign-status").get_by_role("button", name="Send now").click()
    expect(page.locator(".campaign-status .badge")).to_have_text("draft")
    assert len(asked) == 1

    page.once("dialog", dismiss)
    page.goto(base_url + "/campaigns/1/review")
    page.locator(".send-now").get_by_role("button", name="Send now").click()
    expect(page.locator(".send-now button")).to_be_enabled()
    assert asked == [asked[0], asked[0]], "the review asks what the campaign page asks"
    assert campaign_status() == "draft"

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".send-now").get_by_role("button", name="Send now").click()
    expect(page).to_have_url(re.compile(r"/campaigns/1$"))
    assert campaign_status() != "draft"


def test_focus_goes_to_a_new_condition_and_to_a_neighbour_of_a_removed_one(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/lists/segments/new")

    def press(button, where="#g-0-row > .seg-actions"):
        page.locator(where).get_by_role("button", name=button).first.press("Enter")
        settled(page)

    press("+ Condition")
    assert focused(page) == "c-0.0-field"
    press("+ Condition")
    assert focused(page) == "c-0.1-field"
    press("+ Group")
    assert focused(page) == "g-0.2-operator"
    press("Remove", '[id="c-0.0-row"]')
    assert focused(page) == "c-0.0-field"  # the next row moved up into its place
    press("Remove group", '[id="g-0.1-row"]')
    assert focused(page) == "c-0.0-field"  # no next row: the one before
    press("Remove", '[id="c-0.0-row"]')
    assert focused(page) == "g-0-add"  # no row left: the group's "+ Condition"


def test_any_other_pager_focuses_its_new_table_in_view(signed_in, base_url):
    """Pagers without a results heading (suppression, audit log, templates, ...): the table's region,
    named, takes the focus the Next link took away with it."""

    async def suppress(session):
        await suppression.add_many(session, [f"gone{i}@example.com" for i in range(60)], "manual")

    run_db(suppress)
    page = signed_in
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(base_url + "/suppression")
    page.get_by_role("link", name="Next →").press("Enter")
    settled(page)
    table = page.get_by_role("region", name="Suppressed addresses")
    expect(table).to_be_focused()
    expect(table).to_be_in_viewport()
    expect(table).to_contain_text("gone")


def test_the_contacts_pager_focuses_the_results_heading_in_view(signed_in, base_url):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(base_url + "/contacts")
    heading = page.locator("#contacts-results-heading")
    page.get_by_role("link", name="Next →").press("Enter")
    settled(page)
    expect(heading).to_be_focused()
    expect(heading).to_contain_text("60 contacts")
    expect(heading).to_be_in_viewport()
    page.get_by_role("link", name="← Previous").press("Enter")
    settled(page)
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()


def test_searching_contacts_keeps_focus_in_the_search_box(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/contacts")
    search = page.get_by_role("searchbox", name="Search contacts")
    search.press_sequentially("person1", delay=40)
    expect(page.locator("#contacts-results tbody tr")).to_have_count(11)
    settled(page)
    expect(search).to_be_focused()
    search.press("Enter")
    settled(page)
    expect(search).to_be_focused()


def test_a_contact_found_by_searching_opens_at_its_own_address(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/contacts")
    page.get_by_role("searchbox", name="Search contacts").press_sequentially("person12", delay=40)
    expect(page.locator("#contacts-results tbody tr")).to_have_count(1)
    settled(page)
    page.locator("#contacts-results tbody a").first.click()  # the search box loses focus: its change fires
    expect(page).to_have_url(re.compile(r"/contacts/[0-9]+$"))
    page.wait_for_timeout(500)  # a list request the blur would have sent would push its address by now
    expect(page).to_have_url(re.compile(r"/contacts/[0-9]+$"))
    page.reload()
    expect(page.locator("h1")).to_have_text("Person12")


def test_a_contact_forms_error_response_focuses_the_first_invalid_field(signed_in, base_url):
    page = signed_in
    page.goto(base_url + "/contacts/new")
    page.fill("#email", "grace@")
    page.fill("#company", "Navy")
    page.press("#company", "Enter")
    expect(page.locator(".error-summary")).to_be_visible()
    settled(page)
    expect(page.locator("#email")).to_be_focused()


def test_an_error_in_a_group_of_fields_focuses_its_first_field(signed_in, base_url):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 500})  # the custom fields are below the fold
    page.goto(base_url + "/contacts/new")
    page.fill("#email", "grace@example.com")
    page.locator("input[name=cf_key]").fill("1st source")  # the custom fields are one group with one message
    page.locator("input[name=cf_value]").fill("web")
    page.press("#email", "Enter")
    expect(page.locator(".custom-fields .field-error")).to_contain_text("not a valid field name")
    settled(page)
    expect(page.locator("input[name=cf_key]").first).to_be_focused()
    expect(page.locator("input[name=cf_key]").first).to_be_in_viewport()


def test_a_new_page_by_keyboard_goes_on_from_its_main_content(signed_in, base_url):
    """A whole page swapped in took the focused link or button with the old one: focus goes to the
    new page's main content (as after the skip link), not past the end of the page."""
    page = signed_in
    page.goto(base_url + "/contacts")
    page.get_by_role("link", name="Templates", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"/templates$"))
    settled(page)
    expect(page.locator("#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_a_saved_form_opens_the_next_page_at_its_top_on_a_phone(signed_in, base_url):
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base_url + "/contacts/new")
    page.fill("#email", "phone@example.com")
    button = page.get_by_role("button", name="Add contact")
    button.scroll_into_view_if_needed()
    assert page.evaluate("scrollY") > 0
    button.press("Enter")
    expect(page).to_have_url(re.compile(r"/contacts/\d+$"))
    settled(page)
    expect(page.locator("#flashes")).to_contain_text("Contact added.")
    expect(page.locator("#flashes")).to_be_in_viewport()
    assert page.evaluate("scrollY") == 0


def test_the_tags_box_has_the_fields_label_hint_and_error(signed_in, base_url):
    """The tags field's text box is what people type in: its label reaches it, and a tag refused on
    saving marks it invalid, says why, and takes the focus."""
    page = signed_in
    page.goto(base_url + "/contacts/new")
    page.get_by_text("Tags", exact=True).click()
    box = page.get_by_role("textbox", name="Tags")
    expect(box).to_be_focused()
    page.fill("#email", "tagged@example.com")
    box.fill("x" * 60)
    box.press("Enter")
    page.get_by_role("button", name="Add contact").press("Enter")
    expect(page.locator(".error-summary")).to_be_visible()
    settled(page)
    box = page.get_by_role("textbox", name="Tags")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    described = box.get_attribute("aria-describedby") or ""
    assert "tags-error" in described.split(), described
    expect(page.locator("#tags-error")).to_contain_text("longer than")


def test_a_refused_group_of_checkboxes_focuses_its_first_box(signed_in, base_url):
    """Comparing five campaigns is refused at the group (a fieldset): its first box takes focus."""

    async def five_sent(session):
        for n in range(5):
            session.add(Campaign(name=f"Sent {n}", subject="Hi", status="sent", started_at=func.now()))

    run_db(five_sent)
    page = signed_in
    page.goto(base_url + "/campaigns/compare")
    boxes = page.locator("input[name=campaigns]")
    for n in range(5):
        boxes.nth(n).check()
    page.get_by_role("button", name="Compare").press("Enter")
    expect(page.locator("#campaigns-error")).to_contain_text("Compare at most 4 campaigns.")
    settled(page)
    expect(boxes.first).to_be_focused()
