"""The automation builder in Chromium: an editor creates an automation, builds a flow with a
condition and a step in its "Yes" branch (with HTMX: each form opens in place and only what changed
is swapped; without JavaScript: the same links and buttons load the page), sees a step's errors next
to its fields with what was typed kept, and publishes it; on a phone the flow fits the screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import settled, sign_in_page
from tests.browser.test_campaign_e2e import shot
from tests.conftest import run_db
from tests.support.automations import enrolments as enrolment_rows
from tests.support.automations import new_contacts, published
from webapp.automations.service import enrolments
from webapp.lists.service import lists
from webapp.templates.service import templates


def arrange() -> None:
    """Template 1 "Welcome" and static list 1 "Trial users"."""

    async def go(session):
        await templates.create_template(
            session, {"name": "Welcome", "subject": "Hi", "html_content": "<p>Hi</p>"}, created_by="tests"
        )
        await lists.create_list(session, {"name": "Trial users"}, created_by="tests")

    run_db(go)


def create_automation(page: Page, base_url: str) -> None:
    page.goto(base_url + "/automations")
    page.get_by_role("link", name="New automation").first.click()
    page.fill("#name", "Onboarding")
    page.select_option("#trigger-kind", "tag_added")
    expect(page.locator("#trigger-tag")).to_be_visible()  # the chosen kind's parameter shows
    expect(page.locator("#trigger-list_id")).to_be_hidden()
    page.fill("#trigger-tag", "trial")
    page.get_by_role("button", name="Create and add steps").click()
    expect(page).to_have_url(re.compile(r"/automations/1$"))
    expect(page.locator("#flashes")).to_contain_text("Created 'Onboarding'")
    expect(page.locator(".automation-when")).to_contain_text("Gets the tag “trial”")


def open_slot(page: Page, slot_id: str) -> None:
    page.locator(f"#{slot_id}").get_by_role("link", name=re.compile(r"^\+ Add a step")).click()
    settled(page)


def save_step(page: Page) -> None:
    page.locator("#step-form").get_by_role("button", name="Save step").click()
    settled(page)


def steps(page: Page):
    return page.locator(".step-summary")


def test_with_htmx_each_step_form_opens_in_place_and_a_branch_step_is_indented(editor, page, base_url):
    arrange()
    sign_in_page(page, base_url, editor.email)
    create_automation(page, base_url)

    # The first step, in place: the page does not change, the form opens in the slot.
    open_slot(page, "add-start")
    expect(page).to_have_url(re.compile(r"/automations/1$"))
    expect(page.locator("#step-type")).to_be_focused()
    page.select_option("#step-type", "send_email")
    expect(page.locator("#duration-days")).to_be_hidden()  # only the chosen type's fields
    page.select_option("#template_id", label="Welcome")
    page.fill("#subject", "Welcome aboard")
    save_step(page)
    expect(steps(page)).to_have_text(["Send “Welcome” with the subject “Welcome aboard”"])
    expect(page.locator("#step-form")).to_have_count(0)

    # A wait with nothing to wait for: the message is next to the field, the choice kept.
    first = page.locator(".flow-step").first.get_attribute("id").removeprefix("step-")
    open_slot(page, f"add-after-{first}")
    page.select_option("#step-type", "wait")
    page.fill("#duration-days", "")
    save_step(page)
    expect(page.locator("#duration-days-error, #duration-error").first).to_contain_text("Wait at least a minute")
    expect(page.locator("#step-type")).to_have_value("wait")
    page.fill("#duration-days", "2")
    save_step(page)
    expect(steps(page)).to_have_text(["Send “Welcome” with the subject “Welcome aboard”", "Wait 2 days"])

    # A condition after the wait, its rules from the segment builder.
    wait = page.locator(".flow-step").nth(1).get_attribute("id").removeprefix("step-")
    open_slot(page, f"add-after-{wait}")
    page.select_option("#step-type", "condition")
    page.locator("#g-0-add").click()
    settled(page)
    page.locator('[id="c-0.0-field"]').select_option("tags")
    settled(page)
    chips = page.locator('[id="c-0.0-row"] .chips-input input')
    chips.press_sequentially("vip")
    chips.press("Enter")
    save_step(page)
    condition = page.locator(".flow-step.type-condition")
    expect(condition.locator(".step-summary").first).to_have_text("If Tags has any of vip")

    # A step at the top of its "Yes" branch sits in that branch, indented under the condition.
    condition_id = condition.get_attribute("id").removeprefix("step-")
    open_slot(page, f"add-yes-{condition_id}")
    page.select_option("#step-type", "tag")
    page.locator("#tags-field .chips-input input").press_sequentially("engaged")
    page.locator("#tags-field .chips-input input").press("Enter")  # adds the tag
    page.locator("#tags-field .chips-input input").press("Enter")  # the box is empty: saves the step
    settled(page)
    yes = condition.locator(".branch-yes")
    expect(yes.locator(".step-summary")).to_have_text(["Tag with engaged"])
    expect(condition.locator(".branch-no .step-summary")).to_have_count(0)
    indent = yes.locator(".step-head").bounding_box()["x"] - condition.locator(".step-head").first.bounding_box()["x"]
    assert indent > 10, "the branch's steps are indented beneath the condition"

    # One form is open at a time: opening another closes the first.
    page.locator(f"#step-{wait}").get_by_role("link", name=re.compile("^Edit")).click()
    settled(page)
    expect(page.locator("#duration-days")).to_have_value("2")
    page.locator(f"#step-{first}").get_by_role("link", name=re.compile("^Edit")).click()
    settled(page)
    expect(page.locator("#step-form")).to_have_count(1)
    expect(page.locator(f"#step-{wait} .step-summary")).to_have_text("Wait 2 days")
    expect(page.locator("#subject")).to_have_value("Welcome aboard")
    page.fill("#subject", "Hello there")
    page.evaluate(f"document.getElementById('step-{wait}').dataset.untouched = 'yes'")  # gone if redrawn
    page.press("#subject", "Enter")
    settled(page)
    expect(page.locator(f"#step-{first} .step-summary").first).to_have_text(
        "Send “Welcome” with the subject “Hello there”"
    )
    expect(page.locator(f"#step-{first} .step-summary")).to_be_focused()  # where the form was
    expect(page.locator(f"#step-{wait}")).to_have_attribute("data-untouched", "yes")
    shot(page, "automation-builder")

    # Deleting the condition takes its branch with it.
    page.once("dialog", lambda dialog: dialog.accept())
    condition.locator(".step-actions").first.get_by_role("button", name=re.compile("^Delete")).click()
    settled(page)
    expect(steps(page)).to_have_text(["Send “Welcome” with the subject “Hello there”", "Wait 2 days"])
    expect(page).to_have_url(re.compile(r"/automations/1$"))
    expect(page.locator("#flow-heading")).to_be_focused()  # its button went with it


def enrol_everyone(count: int) -> None:
    async def go(session):
        ids = await new_contacts(session, count)
        await enrolments.enrol(session, 1, ids)

    run_db(go)


def test_without_javascript_the_same_links_and_buttons_build_branches_and_publishing_asks_about_contacts_in_it(
    editor, browser, base_url
):
    arrange()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_page(page, base_url, editor.email)
    create_automation(page, base_url)

    page.locator("#add-start").get_by_role("link", name=re.compile(r"^\+ Add a step")).click()
    expect(page).to_have_url(re.compile(r"/automations/1/steps/new\?at=start$"))  # the builder, its form open
    page.select_option("#step-type", "tag")
    expect(page.locator("#tags")).to_be_visible()  # CSS shows the chosen type's fields, no script needed
    page.fill("#tags", "new, trial")
    page.press("#tags", "Enter")
    expect(page).to_have_url(re.compile(r"/automations/1(#step-\w+)?$"))
    expect(steps(page)).to_have_text(["Tag with new, trial"])

    tag = page.locator(".flow-step").first.get_attribute("id").removeprefix("step-")
    page.locator(f"#add-after-{tag}").get_by_role("link", name=re.compile(r"^\+ Add a step")).click()
    page.select_option("#step-type", "condition")
    page.locator("#g-0-add").click()  # the rules builder's button: the page again, the form as it was
    expect(page.locator("#step-type")).to_have_value("condition")
    page.locator('[id="c-0.0-value"]').fill("@example.com")
    page.get_by_role("button", name="Save step").click()
    condition = page.locator(".flow-step.type-condition")
    expect(condition.locator(".step-summary").first).to_have_text("If Email is “@example.com”")

    condition_id = condition.get_attribute("id").removeprefix("step-")
    page.locator(f"#add-no-{condition_id}").get_by_role("link", name=re.compile(r"^\+ Add a step")).click()
    page.select_option("#step-type", "update_field")
    page.fill("#field", "plan")
    page.fill("#value", "lapsed")
    page.get_by_role("button", name="Save step").click()
    expect(condition.locator(".branch-no .step-summary")).to_have_text(["Set plan to “lapsed”"])
    expect(condition.locator(".branch-yes .step-summary")).to_have_count(0)

    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator("#flashes")).to_contain_text("Published version 1")
    expect(page.locator("h1 .badge")).to_have_text("active")

    # Contacts are in it: publishing a change asks what becomes of them, and nothing is chosen for them.
    enrol_everyone(3)
    page.reload()
    page.locator(f"#step-{tag}").get_by_role("link", name=re.compile("^Edit")).click()
    page.fill("#tags", "new")
    page.get_by_role("button", name="Save step").click()
    expect(page.locator(".publish h2")).to_have_text("Unpublished changes (version 2)")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator("#move_existing-error")).to_have_text(
        "Choose what happens to the contacts already in the automation."
    )
    expect(page.locator(".publish legend")).to_have_text("The 3 contacts in it now")
    page.check("#move_existing-yes")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator("#flashes")).to_contain_text("Published version 2: new contacts take it. The contacts")
    expect(page.locator(".subtitle")).to_contain_text("Version 2 is live")
    versions = {row["version_id"] for row in run_db(lambda session: enrolment_rows(session, 1))}
    assert len(versions) == 1 and versions != {1}, "the contacts in it moved to the new version"
    context.close()


def test_on_a_phone_the_flow_with_its_branches_fits_the_screen(editor, page, base_url):
    async def go(session):
        await published(session, FLOW, name="Win back")

    run_db(go)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/automations/1")
    expect(page.locator(".branch-yes .step-summary")).to_have_text(["Tag with engaged"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    add = page.locator("#add-no-opened").get_by_role("link")
    add.click()
    settled(page)
    page.select_option("#step-type", "wait")
    expect(page.locator("#duration-days")).to_be_in_viewport()
    shot(page, "automation-builder-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


FLOW = [
    {"id": "first", "type": "tag", "tags": ["lapsed"]},
    {
        "id": "opened",
        "type": "condition",
        "rules": {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]},
        "yes": [{"id": "thanks", "type": "tag", "tags": ["engaged"]}],
        "no": [{"id": "later", "type": "wait", "duration": {"days": 3}}],
    },
]


def test_by_keyboard_a_step_is_added_and_saved_with_enter_and_focus_follows(editor, page, base_url):
    async def go(session):
        await published(session, FLOW, name="Win back")

    run_db(go)
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/automations/1")
    page.locator("#add-after-thanks").get_by_role("link").press("Enter")
    settled(page)
    expect(page.locator("#step-type")).to_be_focused()
    page.keyboard.press("ArrowDown")  # a closed select changes with the arrow keys: the first type
    expect(page.locator("#step-type")).to_have_value("send_email")
    page.locator("#step-type").select_option("update_field")
    page.keyboard.press("Tab")
    expect(page.locator("#field")).to_be_focused()  # the chosen type's first field is next
    page.keyboard.type("plan")
    page.keyboard.press("Tab")
    page.keyboard.type("vip")
    page.keyboard.press("Enter")
    settled(page)
    expect(page.locator(".branch-yes .step-summary")).to_have_text(["Tag with engaged", "Set plan to “vip”"])
    expect(page.locator(".branch-yes .step-summary").last).to_be_focused()


def test_archive_asks_first(editor, page, base_url):
    async def go(session):
        await published(session, FLOW, name="Win back")

    run_db(go)
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/automations/1")
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Archive").click()
    expect(page.locator("h1 .badge")).to_have_text("active")
    assert asked == ["Archive “Win back” for good? The contacts in it leave, and it enrols nobody again."]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive").click()
    expect(page.locator("h1 .badge")).to_have_text("archived")
    expect(page.get_by_role("link", name=re.compile(r"^\+ Add a step"))).to_have_count(0)
