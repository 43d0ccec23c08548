"""The security headers in Chromium: every staff and public page works under the
Content-Security-Policy (the csp_violations fixture fails any browser test on a refusal), script-driven
parts still work without inline scripts or eval, and another site cannot frame the app."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.browser.every_page.inventory import PUBLIC_PAGES, STAFF_PAGES
from tests.browser.test_segment_browser import choose, field, press
from tests.conftest import run_db
from tests.support.campaigns import ready_campaign
from tests.support.routes import all_routes
from tests.support.subscriptions import public_list
from webapp.automations.service import automations
from webapp.contacts import service as contacts
from webapp.lists.service import lists
from webapp.outbox import service as outbox
from webapp.subscriptions.service.tokens import preferences_token
from webapp.templates.service import templates

NOT_PAGES = ("/api/", "/static/", "/healthz", "/u/", "/subscribe/")
EMAIL_HTML = (
    '<html><head><style>p { color: #334455 }</style></head><body><p style="font-size:18px">Hello</p>'
    '<img src="https://images.example.com/logo.png" alt="Logo"></body></html>'
)


def arrange() -> dict:
    """A row behind every kind of id a page takes (each table starts empty, so each has id 1)."""

    async def go(session):
        newsletter = await public_list(session, "Newsletter")
        contact = await contacts.create_contact(session, {"email": "ada@example.com", "first_name": "Ada"})
        await lists.add_members(session, newsletter.id, [contact.id])
        await templates.create_template(
            session, {"name": "Welcome", "subject": "Hi", "html_content": EMAIL_HTML}, created_by="tests"
        )
        await ready_campaign(session, [newsletter.id], html_content=EMAIL_HTML)
        raw = f"Subject: Hello\\r\\nContent-Type: text/html\\r\\n\\r\\n{EMAIL_HTML}\\r\\n".encode()
        await outbox.store(session, "news@example.com", ["ada@example.com"], raw)
        # Step "x" is what the sweeps' paths name (/automations/1/steps/x/edit): a condition, with the rules builder.
        rules = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}
        steps = [{"id": "x", "type": "condition", "rules": rules}]
        await automations.create(session, {"name": "Welcome", "trigger": {"kind": "manual"}, "steps": steps})
        return {"list": newsletter.id, "contact": contact.id}

    return run_db(go)


def html_pages(base_url: str, cookies, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every staff page (GET routes with their ids filled in) that answers with HTML, but for the
    routes in `skip`: downloads and event streams are not pages."""
    client = httpx.Client(base_url=base_url, cookies=cookies, timeout=30)
    paths = []
    for route in all_routes():
        if route.method != "GET" or route.template.startswith(NOT_PAGES) or route.template.endswith("/events"):
            continue
        if route.template in skip:
            continue
        if client.get(route.path).headers.get("content-type", "").startswith("text/html"):
            paths.append(route.path)
    return paths


# Every page of the inventory is opened by the every-page tests (tests/browser/every_page), which the
# csp_violations fixture watches too; this sweep opens the rest: partials, the API's docs, a 404.
INVENTORIED = frozenset(shown.route or shown.path for shown in STAFF_PAGES + PUBLIC_PAGES)


def test_every_page_works_under_the_content_security_policy(admin, page, base_url):
    ids = arrange()
    sign_in_page(page, base_url, admin.email)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    partials = html_pages(base_url, cookies, skip=INVENTORIED)
    assert {"/contacts/field-row", "/media/picker"} <= set(partials) and "/contacts/new" not in partials
    for path in [*partials, "/api/docs", "/no/such/page"]:
        page.goto(base_url + path)
        assert page.evaluate("document.readyState") == "complete", path
    # Each page ran our scripts: htmx is there and wired the page up.
    page.goto(base_url + "/contacts")
    assert page.evaluate("typeof htmx") == "object"

    # What used inline script or eval now lives in static/js/app.js, and still works.
    page.goto(base_url + "/contacts/new")
    page.click("text=+ Add field")
    expect(page.locator("input[name=cf_key]")).to_have_count(2)
    page.locator(".kv-row").last.get_by_role("button", name="Remove this field").click()
    expect(page.locator("input[name=cf_key]")).to_have_count(1)
    page.goto(base_url + "/campaigns/1/review")
    zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    expect(page.locator("select[data-browser-zone]")).to_have_value(zone)

    # Public pages, signed out.
    page.context.clear_cookies()
    for path in ["/login", f"/subscribe/{ids['list']}", f"/u/preferences/{preferences_token(ids['contact'])}"]:
        page.goto(base_url + path)
        expect(page.locator("main")).to_be_visible()


def test_the_segment_builder_counts_as_you_type_without_eval(editor, page, base_url):
    arrange()
    sign_in_page(page, base_url, editor.email)
    page.goto(base_url + "/lists/segments/new")
    count = page.locator("#segment-count .segment-number")
    expect(count).to_have_text("1")  # no conditions: everyone (Ada)
    press(page, "0", "+ Condition")
    choose(page, "0.0", "company")
    field(page, "0.0", "value").press_sequentially("Nowhere")  # typing (keyup) counts again
    expect(count).to_have_text("0")
    field(page, "0.0", "op").select_option("is_not_set")  # so does a change that rebuilds nothing
    expect(count).to_have_text("1")


def test_another_site_cannot_frame_the_app(page, base_url, csp_violations):
    for path in ("/login", "/u/preferences/forged"):
        page.set_content(f'<iframe src="{base_url}{path}" title="framed"></iframe>')  # waits for the frame's load
        framed = page.frames[1]
        assert not framed.url.startswith(base_url), f"{path} rendered inside another site's frame"
        refusals = [m for m in csp_violations if "frame-ancestors 'none'" in m]
        assert refusals, csp_violations
        csp_violations.clear()
