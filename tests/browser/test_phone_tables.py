"""On a phone a table's first column (a name, mostly) breaks a long word where it must, rather than
widening the table until every other column is out of view."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.campaigns import ready_campaign


def test_on_a_phone_a_long_unbroken_name_wraps_and_leaves_the_other_columns_in_view(editor, page: Page, base_url):
    run_db(lambda db: ready_campaign(db, [], name="qa-" + "x" * 190))
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/campaigns")
    name = page.locator(".campaigns-table td").first
    box = name.bounding_box()
    assert box is not None and box["width"] < 390 / 2, box
    expect(page.locator(".campaigns-table td .badge").first).to_be_in_viewport()
