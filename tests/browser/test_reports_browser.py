"""The analytics pages in Chromium: each chart is an image with a name and a summary of its numbers,
its data opens as a table (by mouse, by keyboard, and without JavaScript), and nothing on the
pages breaks the Content-Security-Policy (checked for every test by conftest)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.analytics import audience_movement, sent_campaign_activity
from tests.support.campaigns import audience, ready_campaign

OFFER = "https://example.com/offer"


def arrange() -> int:
    async def go(session):
        email_list = await audience(session, 3)
        c = await ready_campaign(session, [email_list.id], html_content=f'<p>Hi <a href="{OFFER}">Offer</a></p>')
        await sent_campaign_activity(session, c.id, [OFFER])
        await audience_movement(session)
        return c.id

    return run_db(go)


def test_a_chart_is_a_described_image_whose_data_opens_as_a_table(viewer, page, base_url):
    campaign_id = arrange()
    sign_in_page(page, base_url, viewer.email)
    page.goto(f"{base_url}/campaigns/{campaign_id}/report")
    hourly = page.locator("#report-hourly")
    image = hourly.get_by_role("img", name="Opens and clicks by hour")
    expect(image).to_be_visible()
    hours = hourly.locator("tbody th")
    first, last = hours.first.text_content(), hours.last.text_content()
    expect(image).to_have_accessible_description(
        f"Opens and clicks by hour, {first} to {last}. Unique opens: 35 in all, most 30 at {first}. "
        f"Unique clicks: 6 in all, most 5 at {first}. All opens: 61 in all, most 55 at {first}. "
        f"All clicks: 10 in all, most 9 at {first}."
    )
    expect(hourly.get_by_role("listitem")).to_have_text(["Unique opens", "Unique clicks", "All opens", "All clicks"])
    table = hourly.get_by_role("table")
    expect(table).to_be_hidden()
    hourly.get_by_text("Show as table").click()
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(50)  # the header and 49 hours
    expect(table.get_by_role("row").nth(1)).to_contain_text("30")


def test_the_table_opens_by_keyboard(viewer, page, base_url):
    campaign_id = arrange()
    sign_in_page(page, base_url, viewer.email)
    page.goto(f"{base_url}/campaigns/{campaign_id}/report")
    links = page.locator("#report-links")
    summary = links.get_by_text("Show as table")
    for _ in range(80):
        page.keyboard.press("Tab")
        if summary.evaluate("(el) => el === document.activeElement"):
            break
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    expect(links.get_by_role("row", name=OFFER)).to_contain_text("100.0%")


def test_the_links_sit_beside_the_email_as_sent(viewer, page, base_url):
    campaign_id = arrange()
    sign_in_page(page, base_url, viewer.email)
    page.goto(f"{base_url}/campaigns/{campaign_id}/report")
    email = page.frame_locator("iframe[title^='The email with each link']")
    expect(email.get_by_role("link", name="Offer")).to_have_attribute("href", OFFER)
    expect(email.get_by_text("6 clicks · 100.0%")).to_be_visible()
    expect(page.locator("#report-links").get_by_role("img", name="Clicks per link")).to_have_accessible_description(
        f"Clicks per link. {OFFER}: 6 · 100.0%."
    )


def test_the_dashboard_reads_without_javascript(viewer, browser, base_url):
    arrange()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_page(page, base_url, viewer.email)
    growth = page.locator("#audience-growth")
    expect(growth.get_by_role("img", name="Audience changes per day, last 30 days")).to_be_visible()
    growth.get_by_text("Show as table").click()
    expect(growth.get_by_role("row")).to_have_count(31)
    expect(growth.get_by_role("columnheader")).to_have_text(["Day (UTC)", "Subscribed", "Unsubscribed", "Bounced"])
    context.close()
