"""In Chromium: an editor uploads an image to the media library, sees it, copies its HTML, and
deletes it after confirming; the image loads from its own address."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.browser.test_campaign_e2e import shot


def test_an_editor_uploads_an_image_copies_its_html_and_deletes_it(editor, page, base_url):
    out = io.BytesIO()
    Image.new("RGB", (120, 60), "teal").save(out, "PNG")
    sign_in_page(page, base_url, editor.email)
    page.locator(".sidebar").get_by_role("link", name="Media").click()
    expect(page.locator("h1")).to_have_text("Media")
    expect(page.get_by_role("heading", name="No images yet")).to_be_visible()

    page.set_input_files("#file", files=[{"name": "banner.png", "mimeType": "image/png", "buffer": out.getvalue()}])
    page.fill("#alt", "Our spring banner")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash-success")).to_contain_text("Uploaded banner.png.")
    image = page.get_by_role("img", name="Our spring banner")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.complete && img.naturalWidth") == 120
    snippet = page.get_by_label("HTML of banner.png")
    src = image.get_attribute("src")
    expect(snippet).to_have_value(
        f'<img src="{src}" alt="Our spring banner" width="120" style="max-width:100%;height:auto">'
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy HTML of banner.png").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == snippet.input_value()
    shot(page, "media")

    tag = snippet.input_value()
    page.goto(f"{base_url}/templates/new")  # the template editor's picker inserts it at the cursor
    html = page.locator("#html_content")
    html.fill("<p>Before</p>\n<p>After</p>")
    html.evaluate("(area) => area.setSelectionRange(13, 13)")  # between the paragraphs
    page.get_by_role("button", name="Image…").click()
    picker = page.get_by_role("dialog", name="Insert an image")
    expect(picker).to_be_visible()
    picker.get_by_role("button", name="Close").click()
    with page.expect_response("**/media/picker"):  # loaded again each time it opens
        page.get_by_role("button", name="Image…").click()
    expect(picker.get_by_role("button", name="Insert banner.png")).to_have_count(1)
    picker.get_by_role("button", name="Insert banner.png").click()
    expect(picker).to_be_hidden()
    expect(html).to_have_value(f"<p>Before</p>{tag}\n<p>After</p>")
    expect(html).to_be_focused()
    page.goto(f"{base_url}/media")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete banner.png").click()
    expect(page.locator(".flash-success")).to_contain_text("Deleted banner.png.")
    expect(page.get_by_role("heading", name="No images yet")).to_be_visible()
