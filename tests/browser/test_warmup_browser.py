"""In Chromium: an editor plans the warm-up of a new SMTP server (the days filled in to a target, a
mistake shown next to its day first), sees where it stands today, and releases a plan that was held
back; the campaign page of a campaign under the plan says how much may go today."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign, smtp_server
from webapp.warmup.models import WarmupPlan
from webapp.warmup.service.schedule import default_schedule


def test_an_editor_plans_a_warm_up_and_releases_it_when_held(editor, page, base_url):
    async def arrange(session):
        server = await smtp_server(session, 2525, name="New relay")
        email_list = await audience(session, 3)
        return server.id, (await ready_campaign(session, [email_list.id])).id

    server_id, campaign_id = run_db(arrange)
    sign_in_page(page, base_url, editor.email)
    page.locator(".sidebar").get_by_role("link", name="Warm-up").click()
    expect(page.locator("h1")).to_have_text("Warm-up plans")
    page.get_by_role("link", name="New plan").first.click()
    expect(page.locator("#day_1")).to_have_value("50")

    page.fill("#name", "New relay IP")
    page.select_option("#smtp_server_id", str(server_id))
    page.fill("#target", "8000")
    page.get_by_role("button", name="Fill in the days to this target").click()
    expect(page.locator("#day_30")).to_have_value("8000")
    expect(page.locator("#day_2")).to_have_value(str(default_schedule(8000)[1]))
    page.fill("#day_4", "-3")
    page.get_by_role("button", name="Add plan").click()
    expect(page.locator("#day_4-error")).to_have_text("Day 4 must be between 0 and 10,000,000.")
    expect(page.locator("#day_4")).to_have_attribute("aria-invalid", "true")
    page.fill("#day_4", "90")
    page.get_by_role("button", name="Add plan").click()
    expect(page.locator(".flash-success")).to_contain_text("Warm-up plan “New relay IP” added.")
    expect(page.locator("h1")).to_contain_text("warming up")
    expect(page.locator(".details")).to_contain_text("SMTP server New relay")
    expect(page.locator(".warmup-schedule tr.today")).to_contain_text("50")

    page.goto(f"{base_url}/campaigns/{campaign_id}")
    expect(page.locator(f"#campaign-{campaign_id}-warmup")).to_contain_text("0 of today's 50 went under it")

    async def hold(session):
        plan = (await session.scalars(select(WarmupPlan))).one()
        plan.held_at, plan.held_reason = datetime.now(UTC), "The bounce rate reached 7.0 % (14 of 200 messages)."
        return plan.id

    plan_id = run_db(hold)
    page.goto(f"{base_url}/warmup/{plan_id}")
    expect(page.locator("#warmup-held")).to_contain_text("The bounce rate reached 7.0 %")
    page.get_by_role("button", name="Release the plan").click()
    expect(page.locator(".flash-success")).to_contain_text("released")
    expect(page.locator("#warmup-held")).to_have_count(0)
    expect(page.locator(".details")).to_contain_text(f"by {editor.name}")
