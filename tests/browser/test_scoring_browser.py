"""In Chromium: an editor adds a scoring rule (a mistake shown next to its field first), a custom
event posted for a contact scores at once, the contact's page shows the score and its history and
takes a manual lifecycle stage, the leaderboard pages with HTMX and shows the lifecycle chart, and
the segment builder counts contacts by lead score."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import settled, sign_in_page
from tests.browser.test_segment_browser import choose, field, press
from tests.conftest import run_db
from tests.support.scoring import contact
from webapp.contact_events import service as contact_events
from webapp.contact_events.service import NewEvent
from webapp.scoring import service as scoring


def test_an_editor_scores_custom_events_and_sets_a_stage_by_hand(editor, page, base_url):
    ada = run_db(lambda session: contact(session, "ada@example.com", first_name="Ada"))
    sign_in_page(page, base_url, editor.email)
    page.locator(".sidebar").get_by_role("link", name="Scoring rules").click()
    expect(page.locator("h1")).to_have_text("Scoring rules")
    page.fill("#name", "Purchase")
    page.select_option("#event", "custom")
    page.fill("#points", "30")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#event_name-error")).to_have_text("Enter the custom event's name, such as purchase.")
    expect(page.locator("#event_name")).to_have_attribute("aria-invalid", "true")
    page.fill("#event_name", "purchase")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator(".flash-success")).to_contain_text("Rule “Purchase” added")
    expect(page.locator("#scoring-rules tbody tr")).to_have_count(1)

    run_db(lambda session: contact_events.record(session, [NewEvent(ada, "purchase", {"sku": "B-7"})]))
    page.goto(f"{base_url}/contacts/{ada}")
    expect(page.locator("#contact-score-value")).to_have_text("53")  # 30 + 3 for the name + 20 for just now
    expect(page.locator("#contact-grade")).to_have_text("C")
    expect(page.locator("#contact-stage")).to_have_text("MQL")
    expect(page.locator("#score-history tbody tr")).to_have_count(1)
    expect(page.locator("#score-history")).to_contain_text("Event: purchase")
    expect(page.locator("#contact-events")).to_contain_text("B-7")

    page.select_option("#manual-stage", "customer")
    page.get_by_role("button", name="Set stage").click()
    expect(page.locator(".flash-success")).to_contain_text("Lifecycle stage saved")
    expect(page.locator("#contact-stage")).to_have_text("Customer")
    expect(page.locator("#manual-stage")).to_have_value("customer")
    expect(page.locator("#score-history tbody tr").first).to_contain_text("Stage set to Customer by")


def test_the_leaderboard_pages_with_htmx_and_segments_count_by_score(editor, page, base_url):
    async def arrange(session):
        for i in range(60):
            someone = await contact(session, f"p{i:02}@example.com")
            await scoring.add_points(session, [someone], i, "test")

    run_db(arrange)
    sign_in_page(page, base_url, editor.email)
    page.locator(".sidebar").get_by_role("link", name="Lead scores").click()
    expect(page.locator("#lifecycle-distribution svg title")).to_have_text("Contacts per lifecycle stage")
    rows = page.locator("#leaderboard-results tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("p59@example.com")
    page.get_by_role("link", name="Next →").click()
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("p09@example.com")
    expect(page).to_have_url(f"{base_url}/scoring?" + page.url.split("?", 1)[1])
    expect(page.locator("#lifecycle-distribution")).to_have_count(1)  # only the table was swapped

    page.goto(base_url + "/lists/segments/new")
    page.fill("#name", "Hot leads")
    press(page, "0", "+ Condition")
    choose(page, "0.0", "score")
    field(page, "0.0", "op").select_option("gte")
    settled(page)
    field(page, "0.0", "value").press_sequentially("45")
    expect(page.locator("#segment-count .segment-number")).to_have_text("15")  # 45 to 59
