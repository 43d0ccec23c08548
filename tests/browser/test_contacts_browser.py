"""Contacts in Chromium: an editor creates (tag chip, custom field), searches as they type, edits,
bulk-tags and deletes a contact; a viewer sees no edit controls and is refused when posting."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import insert, select, update

from tests.browser.conftest import sign_in_page
from tests.browser.every_page.test_phone import WIDEST
from tests.conftest import run_db
from tests.support.screenshots import shot
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList
from webapp.staff.models import User

PEOPLE = [
    ("ada", "Ada", "Lovelace", "Analytical Engines", ["vip", "math"], "active"),
    ("alan", "Alan", "Turing", "Bletchley Park", ["math"], "active"),
    ("barbara", "Barbara", "Liskov", "MIT", ["speaker"], "active"),
    ("dennis", "Dennis", "Ritchie", "Bell Labs", [], "bounced"),
    ("donald", "Donald", "Knuth", "Stanford", ["author", "vip"], "active"),
    ("edsger", "Edsger", "Dijkstra", "UT Austin", [], "unsubscribed"),
    ("frances", "Frances", "Allen", "IBM", ["speaker"], "active"),
    ("hedy", "Hedy", "Lamarr", "MGM", ["inventor"], "active"),
    ("john", "John", "Backus", "IBM", [], "complained"),
    ("ken", "Ken", "Thompson", "Bell Labs", ["unix"], "active"),
    ("katherine", "Katherine", "Johnson", "NASA", ["vip"], "active"),
    ("linus", "Linus", "Torvalds", "", ["kernel"], "active"),
    ("margaret", "Margaret", "Hamilton", "NASA", ["apollo", "vip"], "active"),
    ("niklaus", "Niklaus", "Wirth", "ETH Zürich", [], "active"),
    ("radia", "Radia", "Perlman", "DEC", ["networks"], "active"),
    ("shafi", "Shafi", "Goldwasser", "MIT", ["crypto"], "bounced"),
    ("sophie", "Sophie", "Wilson", "Acorn", ["arm"], "active"),
    ("tim", "Tim", "Berners-Lee", "CERN", ["web", "speaker"], "active"),
    ("vint", "Vint", "Cerf", "", [], "active"),
    ("whitfield", "Whitfield", "Diffie", "Stanford", ["crypto"], "active"),
]


def seed_people() -> None:
    rows = [
        {
            "email": f"{key}@example.com",
            "first_name": first,
            "last_name": last,
            "company": company,
            "tags": tags,
            "status": status,
            "is_active": status == "active",
        }
        for key, first, last, company, tags, status in PEOPLE
    ]

    async def go(session):
        await session.execute(insert(Contact), rows)

    run_db(go)


def test_editor_creates_searches_edits_bulk_tags_and_deletes_a_contact(editor, page, base_url):
    seed_people()
    page.set_viewport_size({"width": 1360, "height": 900})
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/contacts")
    expect(page.locator("#contacts-results tbody tr")).to_have_count(20)
    shot(page, "contacts")

    # create: the email is checked as the field is left, and errors keep what was typed
    page.click("text=Add contact")
    expect(page.locator("h1")).to_have_text("New contact")
    page.fill("#email", "grace@")
    page.fill("#first_name", "Grace")
    expect(page.locator("#email-feedback")).to_contain_text("Not a valid address")
    page.fill("#email", "ADA@example.com")
    page.press("#email", "Tab")
    expect(page.locator("#email-feedback")).to_contain_text("already used by contact #1")
    page.fill("#email", "grace@")
    page.fill("#last_name", "Hopper")
    page.fill("#company", "Navy")
    page.fill(".chips-input input", "pioneer")
    page.keyboard.press("Enter")
    expect(page.locator(".chips-input .chip")).to_have_text(["pioneer×"])
    page.fill(".chips-input input", "spring, Sale")  # pasted: two tags
    page.keyboard.press("Enter")
    expect(page.locator(".chips-input .chip")).to_have_text(["pioneer×", "spring×", "sale×"])
    page.get_by_role("button", name="Remove tag spring").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".chips-input input")).to_be_focused()  # not lost to the top of the page
    page.get_by_role("button", name="Remove tag sale").click()
    expect(page.locator(".chips-input .chip")).to_have_text(["pioneer×"])
    page.locator("input[name=cf_key]").last.fill("plan")
    page.locator("input[name=cf_value]").last.fill("pro")
    page.click("text=+ Add field")
    expect(page.locator("input[name=cf_key]")).to_have_count(2)
    page.locator("input[name=cf_key]").last.fill("1st source")
    page.locator("input[name=cf_value]").last.fill("web")
    page.click("button:has-text('Add contact')")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#email")).to_have_value("grace@")
    expect(page.locator("#last_name")).to_have_value("Hopper")
    expect(page.locator(".chips-input .chip")).to_have_text(["pioneer×"])
    expect(page.locator("input[name=cf_value]").nth(1)).to_have_value("web")
    expect(page.locator(".custom-fields .field-error")).to_contain_text("not a valid field name")
    shot(page, "contact-form-errors")

    page.fill("#email", "grace@example.com")
    page.locator("input[name=cf_key]").nth(1).fill("source")
    page.locator(".chips-input input").focus()
    page.keyboard.press("Enter")  # an empty tag box submits the form, as any other field does
    expect(page.locator(".flash")).to_have_text("Contact added.")
    expect(page.locator("h1")).to_have_text("Grace Hopper")
    expect(page.locator(".contact-detail")).to_contain_text("pioneer")
    expect(page.locator(".contact-detail dl").nth(1)).to_contain_text("plan")
    expect(page).to_have_url(re.compile(r"/contacts/\d+$"))
    contact_url = page.url

    # search as you type: only the results change, and the URL follows
    page.click("nav >> text=Contacts")
    page.locator("input[name=q]").press_sequentially("hop", delay=60)
    expect(page.locator("#contacts-results tbody tr")).to_have_count(1)
    expect(page.locator("#contacts-results")).to_contain_text("grace@example.com")
    expect(page).to_have_url(re.compile(r"q=hop"))

    # edit
    page.goto(contact_url)
    page.click(".page-header a:has-text('Edit')")
    expect(page.locator("h1")).to_have_text("Edit contact")
    page.fill("#company", "US Navy")
    page.click("button:has-text('Save changes')")
    expect(page.locator(".flash")).to_have_text("Changes saved.")
    expect(page.locator(".contact-detail")).to_contain_text("US Navy")

    # bulk tag, then delete with confirmation
    page.goto(base_url + "/contacts?q=grace")
    page.check("input[name=ids]")
    page.fill(".bulkbar input[name=tag]", "speaker")
    page.click(".bulkbar >> text=Add tag")
    expect(page.locator(".flash")).to_have_text("Tagged 1 contact.")
    expect(page.locator("#contacts-results tbody tr").first).to_contain_text("speaker")
    page.check("input[data-select-all=ids]")
    expect(page.locator("input[name=ids]")).to_be_checked()
    page.click(".bulkbar >> text=Delete")
    expect(page.locator("#confirm")).to_contain_text("Delete 1 contact? This cannot be undone.")
    page.click("text=Yes, delete")
    expect(page.locator(".flash")).to_have_text("Deleted 1 contact.")
    expect(page.locator("#contacts-results")).to_contain_text("No contacts match")


def test_viewer_sees_no_edit_controls_and_is_refused(viewer, page, base_url):
    seed_people()
    sign_in_page(page, base_url, viewer.email)
    page.goto(base_url + "/contacts")
    expect(page.locator("#contacts-results tbody tr")).to_have_count(20)
    expect(page.locator("input[type=checkbox]")).to_have_count(0)
    expect(page.locator(".bulkbar")).to_have_count(0)
    expect(page.locator("text=Add contact")).to_have_count(0)
    page.click("text=ada@example.com")
    expect(page.locator("h1")).to_have_text("Ada Lovelace")
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("text=Edit")).to_have_count(0)
    # posting anyway (with a valid CSRF token) is refused
    status = page.evaluate("""async () => {
        const token = document.querySelector('meta[name=csrf-token]').content;
        const response = await fetch('/contacts/1/delete', {method: 'POST', headers: {'x-csrftoken': token,
            'content-type': 'application/x-www-form-urlencoded'}, body: 'confirm=yes'});
        return response.status;
    }""")
    assert status == 403
    page.reload()
    expect(page.locator("h1")).to_have_text("Ada Lovelace")


def test_editor_tags_every_matching_contact_beyond_the_page(editor, page, base_url):
    async def go(session):
        await session.execute(
            insert(Contact),
            [{"email": f"reader{n}@example.com", "company": "Acme" if n <= 70 else "Other"} for n in range(1, 81)],
        )

    run_db(go)
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/contacts?company=Acme")
    expect(page.locator("#contacts-results tbody tr")).to_have_count(50)
    page.check("text=Select all 70 matching contacts")
    page.fill(".bulkbar input[name=tag]", "spring")
    page.click(".bulkbar >> text=Add tag")
    expect(page.locator("#confirm")).to_contain_text("Add the tag “spring” to 70 contacts?")
    expect(page.locator("#confirm")).to_contain_text("All contacts matching company “Acme”.")
    page.click("text=Yes, go ahead")
    expect(page.locator(".flash")).to_have_text("Tagged 70 contacts.")
    expect(page).to_have_url(base_url + "/contacts?company=Acme")
    page.goto(base_url + "/contacts?tag=spring")
    expect(page.locator(".results-summary")).to_contain_text("70 contacts match")


LONG_ADDRESS = "maximilian.alexander.featherstonehaugh-worthington@marketing-department.example-holdings.com"


def test_a_long_address_wraps_instead_of_widening_the_table_on_a_phone(editor, page, base_url):
    async def go(session):
        await session.execute(insert(Contact), [{"email": LONG_ADDRESS, "first_name": "Max", "tags": ["vip"]}])
        await session.execute(insert(Contact), [{"email": "ada@example.com", "company": "Analytical Engines"}])

    run_db(go)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/contacts")
    expect(page.get_by_role("checkbox", name="Select all on this page")).to_be_visible()
    link = page.get_by_role("link", name=LONG_ADDRESS)
    expect(link).to_be_visible()
    wrap = page.locator("#contacts-results .table-wrap")
    assert wrap.evaluate("(e) => e.scrollWidth <= e.clientWidth"), "the table scrolls sideways for one address"
    box = link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    shot(page, "contacts-phone-long-address")
    link.click()
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the contact's page is {widths[0]} px wide on a {widths[1]} px screen"


def test_long_values_wrap_instead_of_widening_pages_on_a_phone(editor, page, base_url):
    """One long word (an address, a German company name, a URL) must not push a page past the screen."""

    async def go(session):
        contact = {
            "email": "alexandra.konstantinopoulou@subsidiary-company-name.co.uk",
            "first_name": "Alexandra" * 3,
            "company": "Internationale Versicherungsgesellschaft",
            "custom_fields": {"longfieldnamewithoutbreaks_and_more": "x" * 80},
        }
        await session.execute(insert(Contact), [contact])
        session.add(EmailList(name="Newsletter", is_public=True))
        session.add(EmailList(name="Wholesale partners - Northern region spring newsletter 2026"))  # in bulk menus

    run_db(go)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_page(page, base_url, editor.email)
    contact_id = run_db(lambda session: session.scalar(select(Contact.id)))
    list_id = run_db(lambda session: session.scalar(select(EmailList.id).order_by(EmailList.id)))
    for path in (f"/contacts/{contact_id}", f"/lists/{list_id}", "/lists/segments/new", "/contacts"):
        page.goto(base_url + path)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{path} is {widths[0]} px wide on a {widths[1]} px screen" + "".join(
            page.evaluate(WIDEST)
        )


def test_a_long_staff_name_wraps_in_the_menu_instead_of_widening_every_page(admin, page, base_url):
    run_db(lambda session: session.execute(update(User).where(User.id == admin.id).values(name="N" * 200)))
    sign_in_page(page, base_url, admin.email)  # the audit log's filter now offers the name too
    for size in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        for path in ("/contacts", "/settings/audit-log"):
            page.goto(base_url + path)
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert widths[0] <= widths[1], f"{path}: {widths[0]} px wide on a {widths[1]} px screen" + "".join(
                page.evaluate(WIDEST)
            )


def test_a_tag_with_a_comma_is_refused_in_place_keeping_the_ticked_rows(editor, page, base_url):
    seed_people()
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/contacts")
    rows = page.locator("#contacts-results tbody input[type=checkbox]")
    rows.nth(0).check()
    rows.nth(1).check()
    tag = page.locator(".bulkbar input[name=tag]")
    tag.fill("promo, x")
    page.click(".bulkbar >> text=Add tag")
    assert tag.evaluate("(el) => el.validity.patternMismatch")  # the browser says why, beside the field
    expect(tag).to_have_value("promo, x")
    assert rows.nth(0).is_checked() and rows.nth(1).is_checked()
    expect(page).to_have_url(base_url + "/contacts")
