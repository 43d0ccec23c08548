"""In Chromium: an editor builds a segment with a nested OR group in the builder, watching the live
count follow every condition (and typing without losing focus), saves it, then sends a campaign to it
through the wizard with a real worker and SMTP server: only the matching contacts get the mail."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import settled, sign_in_page
from tests.browser.test_campaign_e2e import arrange, run_wizard, shot
from tests.conftest import run_db
from tests.support.smtp import SmtpSink
from tests.support.workers import worker  # noqa: F401  (fixture)


def tag_the_audience() -> None:
    """arrange() made person0-49 (companies "Company 0" to "Company 6"); person0-9 are VIPs and
    person3 and person20 are on the pro plan."""

    async def go(session):
        await session.execute(text("UPDATE contacts SET tags = '{vip}' WHERE email ~ '^person[0-9]@'"))
        await session.execute(
            text("""UPDATE contacts SET custom_fields = '{"plan": "pro"}'
                                      WHERE email IN ('person3@example.com', 'person20@example.com')""")
        )

    run_db(go)


def row(page, path: str):
    return page.locator(f'[id="c-{path}-row"]')


def field(page, path: str, part: str):
    return page.locator(f'[id="c-{path}-{part}"]')


def choose(page, path: str, name: str) -> None:
    """Pick a condition's field; its row is re-rendered with that field's operators and value input."""
    field(page, path, "field").select_option(name)
    settled(page)


def press(page, group: str, button: str) -> None:
    page.locator(f'[id="g-{group}-row"] > .seg-actions').get_by_role("button", name=button).click()
    settled(page)


def test_build_a_nested_segment_and_send_a_campaign_to_it(editor, page, base_url, worker):  # noqa: F811
    with SmtpSink() as sink:
        arrange(sink.port)
        tag_the_audience()
        worker("segment-worker", MAILROOM_BASE_URL=base_url)
        sign_in_page(page, base_url, editor.email)
        build_segment(page)
        run_wizard(page, base_url, audience="Engaged VIPs", recipients=3)
        expect(page.locator(".campaign-status h1 .badge")).to_have_text("sent", timeout=60_000)
        expect(page.locator(".progress-sent")).to_have_text("3")
        campaign_mail = sorted(m["To"] for m in sink.messages if not m["Subject"].startswith("[Test]"))
    assert campaign_mail == ["person1@example.com", "person3@example.com", "person8@example.com"]


def build_segment(page) -> None:
    count = page.locator("#segment-count .segment-number")
    page.locator(".sidebar").get_by_role("link", name="Lists").click()
    page.get_by_role("link", name="New segment").click()
    expect(page.locator("h1")).to_have_text("New segment")
    expect(count).to_have_text("50")  # no conditions: everyone
    page.fill("#name", "Engaged VIPs")

    # Tags has any of vip
    press(page, "0", "+ Condition")
    expect(page.locator("#segment-count .segment-pending")).to_contain_text("Fill in each condition's value")
    expect(field(page, "0.0", "error")).to_have_text("")  # a row just added is not marked wrong
    choose(page, "0.0", "tags")
    expect(field(page, "0.0", "op")).to_have_value("has_any")  # the row re-rendered with Tags' operators
    chips = row(page, "0.0").locator(".chips-input input")
    chips.press_sequentially("vip")
    chips.press("Enter")
    expect(count).to_have_text("10")

    # AND (Company is "Company 1" OR plan is pro): a nested group
    press(page, "0", "+ Group")
    expect(page.locator('[id="g-0.1-operator"]')).to_have_value("OR")
    expect(field(page, "0.1.0", "error")).to_have_text("")
    choose(page, "0.1.0", "company")
    company = field(page, "0.1.0", "value")
    company.press_sequentially("Company 1")
    expect(count).to_have_text("2")  # person1 and person8
    expect(company).to_be_focused()  # the count arrived without taking the cursor away
    expect(field(page, "0.1.0", "error")).to_have_text("")
    shot(page, "segment-builder-two-conditions")

    press(page, "0.1", "+ Condition")
    choose(page, "0.1.1", "custom")
    key = field(page, "0.1.1", "key")
    expect(key).to_have_attribute("list", "custom-field-keys")
    expect(page.locator('#custom-field-keys option[value="plan"]')).to_have_count(1)  # keys in use are offered
    key.press_sequentially("plan")
    field(page, "0.1.1", "value").press_sequentially("pro")
    expect(count).to_have_text("3")  # person3 joins
    expect(page.locator(".segment-preview tbody tr")).to_have_count(3)
    expect(page.locator(".segment-preview")).to_contain_text("person3@example.com")
    shot(page, "segment-builder")

    page.get_by_role("button", name="Create segment").click()
    expect(page.locator(".flash-success")).to_contain_text("Segment 'Engaged VIPs' created: 3 contacts match now.")
    expect(page.locator(".segment-words")).to_contain_text(
        "Tags has any of vip and (Company is “Company 1” or plan (custom field) is “pro”)"
    )
    expect(page.locator(".stat-value")).to_have_text("3")
    shot(page, "segment-detail")


def test_a_builder_click_is_not_lost_to_a_count_fired_while_it_is_on_its_way(editor, page, base_url):
    """Typing asks for a count 400 ms after the last key; a button pressed within those 400 ms must
    still get its new row when that count starts while the button's request is still out."""
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/lists/segments/new")
    press(page, "0", "+ Condition")
    choose(page, "0.0", "tags")

    def slowly(route):
        time.sleep(0.8)  # the server's answer takes longer than the count's delay
        route.continue_()

    page.route("**/builder", slowly)
    chips = row(page, "0.0").locator(".chips-input input")
    chips.press_sequentially("vip")
    chips.press("Enter")  # the tag is added (a count at once) and the emptied box starts the 400 ms again
    page.locator('[id="g-0-row"] > .seg-actions').get_by_role("button", name="+ Condition").click()
    expect(row(page, "0.1")).to_be_visible()
    expect(page.locator('[id="c-0.0-value"]')).to_have_value("vip")


def test_a_row_is_not_wrong_before_it_is_filled_in_and_not_after_it_is_fixed(editor, page, base_url):
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/lists/segments/new")
    press(page, "0", "+ Condition")
    value, error = field(page, "0.0", "value"), field(page, "0.0", "error")
    for name in ("date_added", "custom", "list"):  # picking a field shows no error before anything is typed
        choose(page, "0.0", name)
        expect(error).to_have_text("")
        expect(page.locator('[id="segment-rules"] [aria-invalid="true"]')).to_have_count(0)
    choose(page, "0.0", "date_added")
    value.press_sequentially("not a date")  # the count follows the keys, 400 ms after the last
    expect(error).not_to_have_text("")  # a value typed and wrong: said as it is typed
    expect(value).to_have_attribute("aria-invalid", "true")
    value.fill("")
    value.press_sequentially("-90d")
    expect(error).to_have_text("")
    expect(value).not_to_have_attribute("aria-invalid", "true")  # fixed: no longer announced as invalid
