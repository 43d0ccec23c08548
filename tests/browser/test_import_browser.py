"""An editor in Chromium imports a messy CSV (BOM, semicolons, a quoted value with the delimiter in
it, a blank line, a bad address and a repeated one): maps two columns on the preview, starts the
import, watches the progress finish without reloading, and reads the report's line numbers."""

from __future__ import annotations

import codecs
import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.screenshots import shot
from tests.support.workers import worker  # noqa: F401  (fixture: a real Dramatiq worker process)

MESSY = codecs.BOM_UTF8 + (
    b"E-mail;Vorname;Company;Plan\r\n"
    b'ada@example.com;Ada;"Engines; Ltd";pro\r\n'
    b"\r\n"
    b"grace@example;Grace;Navy;free\r\n"
    b"linus@example.org;Linus;Kernel;free\r\n"
    b"ADA@example.com;Ada twice;Dup;pro\r\n"
)


def test_editor_imports_a_messy_csv_and_reads_the_report(editor, page, base_url, worker):  # noqa: F811
    worker("import-browser")
    sign_in_page(page, base_url, editor.email)
    page.locator(".sidebar").get_by_role("link", name="Import").click()
    expect(page.locator("h1")).to_have_text("Import contacts")
    page.set_input_files("#file", files=[{"name": "messy.csv", "mimeType": "text/csv", "buffer": MESSY}])
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.locator("h1")).to_have_text("Import messy.csv")
    expect(page.locator(".page-intro")).to_contain_text("CSV, UTF-8, semicolon-separated")
    preview = page.locator(".import-preview")
    expect(preview.locator("tbody tr")).to_have_count(4)
    expect(preview.locator("tbody tr").first).to_contain_text("Engines; Ltd")
    expect(page.locator('select[name="map_0"]')).to_have_value("email")  # guessed from "E-mail"
    expect(page.locator('select[name="map_1"]')).to_have_value("")  # "Vorname" is not guessed

    page.locator('select[name="map_1"]').select_option("first_name")
    custom_name = page.locator('input[name="custom_3"]')
    expect(custom_name).to_be_hidden()
    page.locator('select[name="map_3"]').select_option("custom:")
    expect(custom_name).to_be_visible()
    expect(custom_name).to_have_value("plan")  # suggested from the header
    shot(page, "import-mapping")
    company = page.locator('select[name="map_2"]')
    guessed = company.input_value()
    company.select_option("first_name")  # a slip: refused in its column, written as a sentence
    page.get_by_role("button", name="Start import").click()
    slip = page.locator("#map_2-error")
    expect(slip).to_have_text("Column 2 goes to this field already.")
    assert slip.evaluate("(e) => [getComputedStyle(e).textTransform, e.scrollWidth <= e.clientWidth]") == [
        "none",
        True,
    ]
    page.locator('select[name="map_2"]').select_option(guessed)
    starts = []
    page.on("request", lambda r: starts.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="Start import").dblclick()  # a double click sends it once

    progress = page.locator("#import-page .import-progress")
    expect(progress).to_have_attribute("data-status", "done", timeout=60_000)  # pushed over SSE
    assert [url.rsplit("/", 1)[1] for url in starts] == ["start"]
    expect(progress.locator(".progress-percent")).to_have_text("100.0 %")
    expect(progress.locator(".import-inserted")).to_have_text("2")
    expect(progress.locator(".import-rejected")).to_have_text("1")
    expect(progress.locator(".import-skipped")).to_have_text("1")
    bad = page.locator("#reject-line-4")
    expect(bad).to_contain_text("grace@example")
    expect(bad).to_contain_text("The part after the @-sign is not valid.")
    expect(page.locator("#reject-line-6")).to_contain_text("Same address as line 2.")
    expect(page.get_by_role("link", name=re.compile("Download rejected"))).to_have_attribute(
        "href", re.compile(r"/contacts/import/\d+/rejects\.csv")
    )

    shot(page, "import-report")
    page.locator(".sidebar").get_by_role("link", name="Contacts").click()
    expect(page.locator("#contacts-results")).to_contain_text("ada@example.com")

    async def imported(session):
        from sqlalchemy import select

        from webapp.contacts.models import Contact

        return {c.email: (c.first_name, c.company, c.custom_fields) for c in await session.scalars(select(Contact))}

    assert run_db(imported) == {
        "ada@example.com": ("Ada", "Engines; Ltd", {"plan": "pro"}),
        "linus@example.org": ("Linus", "Kernel", {"plan": "free"}),
    }
