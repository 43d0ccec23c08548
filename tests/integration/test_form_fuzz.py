"""No form input gets a server error. Every form of every staff page of a seeded site (the pages
of tests/browser/every_page/inventory.py) is sent with each of its fields in turn given values no
person should type there; the answer must be a page or a redirect, never a 5xx."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import lxml.html

from tests.browser.every_page.inventory import STAFF_PAGES
from tests.conftest import sign_in
from tests.support.showcase import ADMIN_EMAIL, seed

JUNK = [
    "",
    "-1",
    "1e400",
    "99999999999999999999999",
    "NaN",
    "2026-13-45T25:61",
    "x" * 3000,
    "<script>alert(1)</script>'\"",
    "😀\u202e",
]
LAST = ("/delete", "/erase", "/cancel", "/remove")  # sent after the rest: they take the seeded records away
SKIPPED = ("/logout", "/password", "/account")  # would end this test's session


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


async def test_no_form_input_gets_a_server_error(db, live_server):
    shown = await seed(db, live_server)
    await db.commit()
    client = sign_in(live_server, ADMIN_EMAIL)
    forms: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = {}
    for page in STAFF_PAGES:
        if page.submit or not page.signed_in:
            continue
        path = shown.fill(page.path)
        response = client.get(path)
        assert response.status_code < 500, path
        for action, values, names in forms_of(live_server, path, response.text):
            if not action.startswith(SKIPPED) and not action.endswith(SKIPPED):
                forms.setdefault((action, tuple(names)), values)
    assert len(forms) > 50
    errors = []
    for (action, names), values in sorted(forms.items(), key=lambda item: item[0][0].endswith(LAST)):
        for name in names:
            for junk in JUNK:
                data: dict[str, list[str]] = {name: [junk]}
                for n, v in values:
                    if n not in {name, "_csrf_token"}:
                        data.setdefault(n, []).append(v)
                response = client.post(action, data=data, headers={"HX-Request": "true"})
                if response.status_code >= 500:
                    errors.append(f"{action} {name}={junk[:40]!r}: {response.status_code}")
    assert not errors, "\n".join(errors)
