"""The template editor in Chromium: typing updates the sandboxed preview, a syntax error shows its
line next to the field and in the preview, Tab indents, the width toggle narrows the preview, and
the template is saved into the library; content written in Markdown, in the editor and in the
campaign wizard."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.screenshots import shot
from webapp.campaigns.models import Campaign
from webapp.contacts.models import Contact
from webapp.templates.service import templates


def test_editor_previews_as_you_type_and_shows_syntax_errors(editor, page, base_url):
    run_db(lambda session: _add(session, Contact(email="ada@example.com", first_name="Ada", company="Engines")))
    page.set_viewport_size({"width": 1440, "height": 1000})
    sign_in_page(page, base_url, editor.email)
    page.click("nav >> text=Templates")
    expect(page).to_have_url(re.compile(r"/templates$"))  # the dashboard has headings of its own
    expect(page.get_by_role("heading", name="No templates yet")).to_be_visible()
    page.click("text=Create your first template")
    expect(page.locator("h1")).to_have_text("New template")

    frame = page.frame_locator("#template-preview iframe")
    expect(frame.locator("h1")).to_have_text("Hello Jane!")  # the starter content, for the sample contact
    page.fill("#name", "Spring newsletter")
    page.fill("#subject", "Spring news for {{ first_name }}")
    page.fill("#category", "newsletter")
    page.locator(".chips-input input").fill("seasonal")
    page.keyboard.press("Enter")
    html = page.locator("#html_content")
    html.fill("")
    html.press_sequentially("<h1>Hi {{ first_name }} from {{ company }}</h1>", delay=5)
    expect(frame.locator("h1")).to_have_text("Hi Jane from Example Co")
    expect(page.locator(".preview-subject")).to_contain_text("Spring news for Jane")

    page.fill("#preview_email", "ada@example.com")
    page.locator("#preview_email").press("Enter")  # the preview, not the Save button
    expect(frame.locator("h1")).to_have_text("Hi Ada from Engines")
    expect(page.locator("h1")).to_have_text("New template")  # nothing was saved
    expect(page.locator(".preview-who")).to_contain_text("Previewing as ada@example.com")

    html.press("End")
    html.press("Enter")
    html.press("Tab")
    html.press_sequentially("<p>{{ company }</p>", delay=5)
    expect(page.locator("#html_content-error")).to_have_text(re.compile(r"^Line 2: unexpected '}'"))
    expect(page.locator(".preview-errors")).to_contain_text("HTML: Line 2:")
    expect(page.locator(".code-gutter .error-line")).to_have_text("2")
    assert "\n  <p>{{ company }</p>" in html.input_value()  # Tab indented instead of leaving the field
    shot(page, "template-editor-error")

    page.click("button:has-text('Create template')")  # refused, and what was typed is kept
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".code-gutter .error-line")).to_have_text("2")  # the new page is set up
    assert "{{ company }</p>" in html.input_value()

    html.press("Control+End")
    for _ in "</p>":
        html.press("Backspace")
    html.press_sequentially("}</p>", delay=5)
    expect(page.locator("#html_content-error")).to_be_empty(timeout=15_000)
    expect(frame.locator("p")).to_have_text("Engines")

    page.click("label[for=preview-mobile]")
    expect(page.locator("#template-preview iframe")).to_have_js_property("offsetWidth", 375)
    shot(page, "template-editor-mobile")
    page.click("label[for=preview-desktop]")
    expect(page.locator("#template-preview iframe")).not_to_have_js_property("offsetWidth", 375)
    page.wait_for_timeout(300)  # the width transition
    shot(page, "template-editor")

    page.click("button:has-text('Create template')")
    expect(page.locator(".flash-success")).to_have_text("Template 'Spring newsletter' created.")
    page.click("text=Back to templates")
    expect(page.locator(".templates-table tbody tr")).to_have_count(1)
    expect(page.locator(".templates-table")).to_contain_text("company")
    expect(page.locator(".templates-table .chip")).to_have_text("seasonal")
    shot(page, "templates-library")


async def _add(session, *rows):
    session.add_all(rows)


def test_a_template_written_in_markdown(editor, page, base_url):
    """Markdown is a choice beside HTML: the box shown follows it without a reload, the preview
    shows the HTML made from it, the variable buttons type into it, and it is what is kept."""
    page.set_viewport_size({"width": 1440, "height": 1000})
    sign_in_page(page, base_url, editor.email)
    page.goto(f"{base_url}/templates/new")
    expect(page.locator("#html_content")).to_be_visible()
    expect(page.locator("#markdown_content")).to_be_hidden()

    page.get_by_role("radio", name="Markdown").check()
    expect(page.locator("#html_content")).to_be_hidden()
    markdown = page.locator("#markdown_content")
    expect(markdown).to_be_visible()
    frame = page.frame_locator("#template-preview iframe")
    expect(frame.locator("h1")).to_have_text("Hello Jane!")  # the starter Markdown, made into HTML
    expect(frame.locator("li")).to_have_count(2)

    page.fill("#name", "Markdown news")
    markdown.fill("## Dear ")
    markdown.press("End")
    page.locator(".var-bar button", has_text="first_name").click()
    expect(markdown).to_have_value("## Dear {{ first_name }}")
    expect(markdown).to_be_focused()
    markdown.press_sequentially("\n\nSee **you** [soon](https://example.com/soon).", delay=5)
    expect(frame.locator("h2")).to_have_text("Dear Jane")
    expect(frame.locator("strong")).to_have_text("you")
    expect(frame.locator("a")).to_have_attribute("href", "https://example.com/soon")
    shot(page, "template-editor-markdown")

    page.click("button:has-text('Create template')")
    expect(page.locator(".flash-success")).to_have_text("Template 'Markdown news' created.")
    expect(page.get_by_role("radio", name="Markdown")).to_be_checked()
    expect(markdown).to_have_value("## Dear {{ first_name }}\n\nSee **you** [soon](https://example.com/soon).")
    page.get_by_role("radio", name="HTML").check()  # the HTML made from it, to change by hand from here
    expect(page.locator("#html_content")).to_contain_text("<h2>Dear {{ first_name }}</h2>")


def test_a_campaign_written_in_markdown_in_the_wizard(editor, page, base_url):
    campaign_id = run_db(_draft)
    sign_in_page(page, base_url, editor.email)
    page.goto(f"{base_url}/campaigns/{campaign_id}/content")
    page.get_by_role("radio", name="Markdown").check()
    markdown = page.locator("#markdown_content")
    markdown.fill("# Spring {{ first_name }}\n\n- tulips\n- daffodils\n")
    frame = page.frame_locator("#campaign-preview iframe")
    expect(frame.locator("h1")).to_have_text("Spring Jane")
    expect(frame.locator("li")).to_have_count(2)
    page.get_by_role("button", name="Next").click()
    expect(page).to_have_url(f"{base_url}/campaigns/{campaign_id}/settings")
    page.goto(f"{base_url}/campaigns/{campaign_id}/content")
    expect(page.get_by_role("radio", name="Markdown")).to_be_checked()
    expect(markdown).to_have_value("# Spring {{ first_name }}\n\n- tulips\n- daffodils\n")
    expect(page.locator("#html_content")).to_be_hidden()


LONG_NAME = "Spring collection newsletter for our most loyal customers in every region, second edition"


def test_a_long_template_name_leaves_use_this_template_clickable(editor, page, base_url):
    async def arrange(session) -> int:
        await templates.create_template(
            session, {"name": LONG_NAME, "subject": "Hi", "html_content": "<p>Long</p>"}, created_by="tests"
        )
        return await _draft(session)

    campaign_id = run_db(arrange)
    sign_in_page(page, base_url, editor.email)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{base_url}/campaigns/{campaign_id}/content")
    page.locator("#template_id").select_option(label=LONG_NAME)
    card, button = page.locator(".wizard-card").bounding_box(), page.get_by_role("button", name="Use this template")
    box = button.bounding_box()
    assert card and box and box["x"] + box["width"] <= card["x"] + card["width"]  # inside its card
    shot(page, "wizard-content-long-template-name")
    button.click()  # with nothing drawn over it
    expect(page.locator("#html_content")).to_have_value(re.compile("<p>Long</p>"))


async def _draft(session) -> int:
    campaign = Campaign(name="Spring", subject="Spring news", from_email="news@example.com")
    session.add(campaign)
    await session.flush()
    return campaign.id
