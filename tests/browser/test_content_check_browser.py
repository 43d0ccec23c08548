"""The review step's content check in Chromium: an editor sees each finding with its fix and a
campaign over the threshold cannot be sent; an admin lets it go out anyway, and the campaign page
says who did and when."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import audience, ready_campaign
from webapp.campaigns.service import content_check
from webapp.settings.service import stored


def test_a_campaign_over_the_threshold_waits_for_an_admins_override(editor, admin, page, base_url):
    async def arrange(session):
        await ready_campaign(session, [(await audience(session, 3)).id])
        await stored.save(session, content_check.KEY, {"threshold": 2.5})  # no DNS records: scores 3

    run_db(arrange)
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/campaigns/1/review")
    check = page.locator("#content-check")
    expect(check).to_contain_text("Score 3 of a threshold of 2.5")
    expect(check.locator(".finding").first).to_contain_text("No SPF record for example.com")
    expect(check.locator(".finding").first).to_contain_text('Fix: Publish a TXT record at example.com such as "v=spf1')
    expect(check.locator(".finding")).to_have_count(3)
    expect(check.get_by_role("alert")).to_contain_text("cannot be sent or scheduled")
    expect(page.get_by_role("button", name="Send now")).to_be_disabled()
    expect(page.get_by_role("button", name="Allow sending anyway")).to_have_count(0)

    page.context.clear_cookies()
    sign_in_page(page, base_url, admin.email)
    page.goto(base_url + "/campaigns/1/review")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Allow sending anyway").click()
    expect(page.locator("#flashes")).to_contain_text("may go out despite its content check score")
    expect(page.locator("#content-check")).to_contain_text("Over the threshold, but Admin let it go out anyway on")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send now").click()
    expect(page).to_have_url(re.compile(r"/campaigns/1$"))
    expect(page.locator(".campaign-details")).to_contain_text("Score 3; Admin let it go out over the threshold on")


def test_the_review_step_opens_before_its_check_is_done_and_the_card_fills_in(editor, page, base_url):
    async def arrange(session):
        await ready_campaign(session, [(await audience(session, 3)).id])
        await stored.save(session, content_check.KEY, {"threshold": 5})  # scores 3: sending stays allowed

    run_db(arrange)
    held = []  # the card's request, answered when the test lets it through
    page.route("**/campaigns/1/review/check", lambda route: held.append(route))
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/campaigns/1/review")
    card = page.locator("#content-check")
    expect(card).to_contain_text("Checking the content")
    expect(page.get_by_role("button", name="Send now")).to_be_enabled()
    assert len(held) == 1
    held[0].continue_()
    expect(card).to_contain_text("Score 3 of a threshold of 5")
    expect(card).not_to_contain_text("Checking the content")
