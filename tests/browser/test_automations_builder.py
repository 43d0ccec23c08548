"""The automation builder in Chromium: an editor creates an automation, builds a flow with a
condition and a step in its "Yes" branch (with HTMX: each form opens in place and only what changed
is swapped; without JavaScript: the same links and buttons load the page), sees a step's errors next
to its fields with what was typed kept, and publishes it; on a phone the flow fits the screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import settled, sign_in_page
from tests.conftest import run_db
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
    page.locator("#tags-field .chips-input input").press("Enter")
    save_step(page)
    yes = condition.locator(".branch-yes")
    expect(yes.locator(".step-summary")).to_have_text(["Tag with engaged"])
    expect(condition.locator(".branch-no .step-summary")).to_have_count(0)
    indent = yes.locator(".step-head").bounding_box()["x"] - condition.locator(".step-head").first.bounding_box()["x"]
    assert indent > 10, "the branch's steps are indented beneath the condition"

    # Editing a step swaps that step only; publishing starts the automation.
    page.locator(f"#step-{first}").get_by_role("link", name=re.compile("^Edit")).click()
    settled(page)
    expect(page.locator("#subject")).to_have_value("Welcome aboard")
    page.fill("#subject", "Hello there")
    page.press("#subject", "Enter")
    settled(page)
    expect(page.locator(f"#step-{first} .step-summary").first).to_have_text(
        "Send “Welcome” with the subject “Hello there”"
    )
    expect(page.locator(f"#step-{first} .step-summary")).to_be_focused()  # where the form was

    # Deleting the condition takes its branch with it.
    page.once("dialog", lambda dialog: dialog.accept())
    condition.locator(".step-actions").first.get_by_role("button", name=re.compile("^Delete")).click()
    settled(page)
    expect(steps(page)).to_have_text(["Send “Welcome” with the subject “Hello there”", "Wait 2 days"])
    expect(page).to_have_url(re.compile(r"/automations/1$"))
