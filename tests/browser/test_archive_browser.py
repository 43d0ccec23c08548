"""In Chromium: an editor publishes a sent campaign in the public archive from its page, and a
visitor on a phone finds it at /archive, reads it with its image, and follows its link straight to
its page (nothing tracked)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import sign_in_page
from tests.browser.test_campaign_e2e import shot
from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign


def sent_campaign(base_url: str) -> int:
    html = f"""<html><body><h1>Hello {{{{ first_name | default("reader") }}}}</h1>
<img src="{base_url}/static/img/favicon.svg" alt="Our logo" width="32" height="32">
<p><a href="{base_url}/login">Read the whole story</a></p>
</body></html>"""

    async def go(session) -> int:
        email_list = await audience(session, 1)
        campaign = await ready_campaign(session, [email_list.id], subject="Our winter letter", html_content=html)
        await session.execute(
            text("UPDATE campaigns SET status = 'sent', started_at = now(), completed_at = now() WHERE id = :c"),
            {"c": campaign.id},
        )
        return campaign.id

    return run_db(go)


def test_an_editor_publishes_a_campaign_that_a_visitor_reads_in_the_archive(editor, page, browser, base_url):
    campaign_id = sent_campaign(base_url)
    sign_in_page(page, base_url, editor.email)
    page.goto(f"{base_url}/campaigns/{campaign_id}")
    archive = page.locator(".archive-setting")
    expect(archive).to_contain_text("Not in it")
    archive.get_by_role("button", name="Publish in the archive").click()
    expect(page.locator(".flash-success")).to_contain_text("'Test campaign' is in the public archive.")
    archive.get_by_role("link", name="In it").click()  # a page of its own, not swapped into the staff layout
    expect(page.get_by_role("heading", name="Hello reader")).to_be_visible()
    assert page.evaluate("typeof window.htmx") == "undefined"  # loaded as a sandboxed page, no staff script
    page.go_back()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, base_url=base_url)
    visitor = phone.new_page()
    visitor.goto("/archive")
    expect(visitor.get_by_role("heading", name="Past newsletters")).to_be_visible()
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 390
    shot(visitor, "archive")
    visitor.get_by_role("link", name="Our winter letter").click()
    expect(visitor.get_by_role("heading", name="Hello reader")).to_be_visible()
    expect(visitor).to_have_title("Our winter letter")
    assert visitor.evaluate("window.innerWidth") == 390, "laid out at the phone's width, not 980 pixels"
    logo = visitor.get_by_role("img", name="Our logo")
    assert logo.evaluate("(img) => img.complete && img.naturalWidth > 0"), "the email's image loads"
    link = visitor.get_by_role("link", name="Read the whole story")
    assert link.get_attribute("href") == f"{base_url}/login"  # straight there: nothing tracked
    link.click()
    expect(visitor).to_have_url(f"{base_url}/login")
    phone.close()

    page.get_by_role("button", name="Take it out").click()
    expect(page.locator(".flash-success")).to_contain_text("is no longer in the public archive")
    page.goto(f"{base_url}/archive")
    expect(page.get_by_text("Nothing here yet")).to_be_visible()
