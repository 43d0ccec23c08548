"""No form input gets a server error, and a form that refuses it keeps what was typed. Every form of
every staff and public page of a seeded site (the pages of tests/browser/every_page/inventory.py) is
sent with each of its fields in turn given values no person should type there; the answer must be a
page or a redirect, never a 5xx, and where the form comes back refused (4xx), each text field that
was typed in shows what was typed, so the person can correct it rather than type it again."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html
import pytest

from tests.browser.every_page.inventory import PUBLIC_PAGES, STAFF_PAGES
from tests.conftest import StaffClient, sign_in
from tests.support.showcase import ADMIN_EMAIL, seed
from webapp.suppression.service.suppression import REJECTED_TEXT_MAX_LENGTH

pytestmark = pytest.mark.long  # minutes: started first

JUNK = [
    "",
    "-1",
    "1e400",  # past any integer or float column
    "NaN",  # a float Python and PostgreSQL both accept
    "2026-13-45T25:61",
    "x" * 3000,
    "<script>alert(1)</script>'\"😀\u202e",  # markup, quotes, an emoji and a right-to-left override
]
NUMERIC = ("-1", "1e400")  # what a number field takes from the keyboard
LAST = ("/delete", "/erase", "/cancel", "/remove")  # sent after the rest: they take the seeded records away
SKIPPED = ("/logout", "/password")  # would end this test's session
TYPED = {"text", "email", "search", "tel", "url", "number"}  # <input> types a person types into (and <textarea>)
NEVER_SHOWN_BACK = {"dkim_private_key", "code"}  # secrets (a key, a sign-in code): never written into a page again
# A refused line of pasted addresses comes back cut to this many characters (it is no address).
SHORTENED = {"addresses": REJECTED_TEXT_MAX_LENGTH}


def forms_of(base_url: str, path: str, html: str) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    found = []
    for form in lxml.html.fromstring(html).forms:
        if (form.method or "GET").upper() != "POST":
            continue
        action = urlsplit(urljoin(base_url + path, form.action or path)).path
        values = [(name, value if isinstance(value, str) else "") for name, value in form.form_values()]
        names = sorted(
            {
                el.name
                for el in form.inputs
                if el.name and el.name != "_csrf_token" and getattr(el, "type", "") != "file"
            }
        )
        found.append((action, values, names))
    return found


def typed_in(page: str, action: str, name: str) -> lxml.html.HtmlElement | None:
    """The control a person types `name` into, in the form posting to `action`; None when there is
    none, or it is shown only for a kind not chosen (inside a `for-<kind>` part of the form)."""
    for form in lxml.html.fromstring(page).xpath("//form"):
        if urlsplit(form.get("action") or "").path != action:
            continue
        for control in form.xpath(".//input | .//textarea"):
            if control.get("name") != name or name in NEVER_SHOWN_BACK:
                continue
            if control.tag == "input" and (control.get("type") or "text") not in TYPED:
                continue
            if control.xpath("ancestor::*[contains(concat(' ', @class), ' for-')]"):
                continue
            return control
    return None


def lost(response: httpx.Response, action: str, name: str, junk: str) -> bool:
    """Whether the form came back refused without what was typed into `name` (trimmed)."""
    if not 400 <= response.status_code < 500 or (control := typed_in(response.text, action, name)) is None:
        return False
    shown = control.text_content() if control.tag == "textarea" else control.get("value", "")
    return shown.strip() != junk.strip()[: SHORTENED.get(name)]


def sweep(client: httpx.Client, base_url: str, paths: list[str]) -> tuple[int, list[str]]:
    """Send every POST form of these pages with each field given each junk value in turn: how many
    forms there were, and which answers were server errors or refused forms that lost what was typed."""
    forms: dict[tuple[str, tuple[str, ...]], tuple[list[tuple[str, str]], str]] = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        if response.is_redirect:  # e.g. the sign-in code's page, without a password typed first
            continue
        for action, values, names in forms_of(base_url, path, response.text):
            if not action.startswith(SKIPPED) and not action.endswith(SKIPPED):
                forms.setdefault((action, tuple(names)), (values, response.text))
    errors = []
    for (action, names), (values, page) in sorted(forms.items(), key=lambda item: item[0][0].endswith(LAST)):
        for name in names:
            control = typed_in(page, action, name)
            numeric = control is not None and control.get("type") == "number"
            for junk in JUNK:
                data: dict[str, list[str]] = {name: [junk]}
                for n, v in values:
                    if n not in {name, "_csrf_token"}:
                        data.setdefault(n, []).append(v)
                response = client.post(action, data=data, headers={"HX-Request": "true"})
                if response.status_code >= 500:
                    errors.append(f"{action} {name}={junk[:40]!r}: {response.status_code}")
                elif control is not None and (junk in NUMERIC or not numeric) and lost(response, action, name, junk):
                    errors.append(f"{action} {name}={junk[:40]!r}: {response.status_code} without what was typed")
    return len(forms), errors


async def test_no_form_input_gets_a_server_error(db, live_server):
    shown = await seed(db, live_server)
    await db.commit()
    staff_pages = [shown.fill(p.path) for p in STAFF_PAGES if p.signed_in and not p.submit]
    forms, errors = sweep(sign_in(live_server, ADMIN_EMAIL), live_server, staff_pages)
    assert forms > 100 and not errors, "\n".join(errors)

    visitor = StaffClient(base_url=live_server, follow_redirects=False, timeout=30)  # sends the CSRF cookie back
    forms, errors = sweep(visitor, live_server, [shown.fill(p.path) for p in PUBLIC_PAGES])
    assert forms >= 4 and not errors, "\n".join(errors)  # sign-in, subscribe, preferences, unsubscribe
