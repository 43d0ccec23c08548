"""The wizard's A/B test step in Chromium, by keyboard only: a variant is added and removed with
its buttons, Enter in a field saves the test, and the review step then summarises it."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import settled, sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign


def test_a_variant_is_added_and_removed_by_keyboard_and_enter_saves_the_test(admin, page, base_url):
    async def go(session):
        await ready_campaign(session, [(await audience(session, 3)).id])

    run_db(go)
    sign_in_page(page, base_url, admin.email)
    page.goto(base_url + "/campaigns/1/ab-test")
    page.fill("#variants-1-subject", "Last chance")

    page.get_by_role("button", name="+ Add a variant").press("Enter")
    settled(page)
    expect(page.locator("#variants-2-label")).to_have_value("C")
    expect(page.locator("#variants-2-label")).to_be_focused()  # the new variant, not the top of the page
    expect(page.locator("#variants-1-subject")).to_have_value("Last chance")  # what was typed is kept
    page.fill("#variants-2-preheader", "Two days left")

    page.get_by_role("button", name="Remove variant B").press("Enter")
    settled(page)
    expect(page.locator("#variants-1-label")).to_have_value("C")
    expect(page.locator("#variants-1-label")).to_be_focused()  # the variant that moved into its place
    expect(page.locator("#variants-2-label")).to_have_count(0)

    page.fill("#variants-1-preheader", "")  # C now changes nothing: saving is refused, focus on its row
    page.get_by_role("button", name="Save A/B test").last.press("Enter")
    settled(page)
    expect(page.locator("#variant-1-error")).to_contain_text("Variant C changes nothing")
    expect(page.locator("#variants-1-label")).to_be_focused()
    page.fill("#variants-1-preheader", "Two days left")

    page.press("#variants-1-preheader", "Enter")
    expect(page).to_have_url(re.compile(r"/campaigns/1/review$"))
    expect(page.locator("#flashes")).to_contain_text("Saved the A/B test of 2 variants.")
    expect(page.locator(".review-summary")).to_contain_text("2 variants: A (control), C;")


def test_a_person_chooses_the_winner_on_the_report_and_the_reload_keeps_their_choice(admin, page, base_url):
    async def waiting(session):
        from tests.integration.test_ab_send import ab_campaign
        from webapp.abtests.service import sending as ab_sending
        from webapp.campaigns.service import campaigns, sending

        campaign_id, _, _ = await ab_campaign(session, 20, criterion="manual")
        await campaigns.send_now(session, campaign_id)
        await session.commit()
        await sending.begin(session, campaign_id)
        await ab_sending.start(session, campaign_id)
        await session.commit()
        sent = "UPDATE deliveries SET status = 'sent', sent_at = now() WHERE campaign_id = :c AND status = 'pending'"
        await session.execute(text(sent), {"c": campaign_id})
        await session.commit()
        assert await ab_sending.holds_back(session, campaign_id)  # the test share is sent: it waits
        return campaign_id

    campaign_id = run_db(waiting)
    sign_in_page(page, base_url, admin.email)
    page.goto(f"{base_url}/campaigns/{campaign_id}/report")
    winner = page.get_by_role("group", name="Choose the winner")
    winner.get_by_label("B").check()
    page.evaluate(  # what the section's reload every 10 seconds does
        f"htmx.ajax('GET', '/campaigns/{campaign_id}/report/ab-test', {{target: '#report-ab-test', swap: 'outerHTML'}})"
    )
    settled(page)
    expect(winner.get_by_label("B")).to_be_checked()
    page.get_by_role("button", name="Send it to the rest").click()
    expect(page.locator(".flash")).to_contain_text("B is the winner")
    expect(page.locator("#report-ab-test")).to_contain_text("chosen: B")
    expect(page.locator("#ab-winner-form")).to_have_count(0)
