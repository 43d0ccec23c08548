"""Security headers on every response: no framing by other sites, no content sniffing, no URLs
(with their tokens) leaked to other sites as referrers, and a Content-Security-Policy that lets
pages run only the app's own scripts. tests/browser/ checks that no page breaks the policy."""

from __future__ import annotations

import httpx


def policy(response: httpx.Response) -> dict[str, str]:
    directives = (d.strip().split(None, 1) for d in response.headers["content-security-policy"].split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d}


def assert_hardened(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "same-origin", where
    assert policy(response)["frame-ancestors"] == "'none'", where


async def test_every_kind_of_response_carries_the_headers(staff, db, live_server):
    editor = await staff("editor")
    anonymous = httpx.Client(base_url=live_server, follow_redirects=False)
    responses = [
        editor.get("/"),
        editor.get("/contacts"),
        editor.get("/contacts/999"),  # an error page
        editor.get("/no/such/page"),  # no route at all
        editor.post("/contacts/bulk", data={"action": "tag", "ids": "x"}),
        anonymous.get("/login"),
        anonymous.get("/"),  # the redirect to sign in
        anonymous.get("/subscribe/999"),
        anonymous.get("/u/unsubscribe/forged"),
        anonymous.get("/u/o/forged.gif"),
        anonymous.get("/static/css/app.css"),
        anonymous.get("/static/js/app.js"),
        anonymous.get("/api/contacts"),  # 401 JSON
        anonymous.get("/api/docs"),
        anonymous.get("/healthz"),
    ]
    for response in responses:
        assert_hardened(response)


async def test_pages_may_run_only_the_apps_own_scripts(staff, live_server):
    editor = await staff("editor")
    for response in (editor.get("/contacts"), httpx.get(live_server + "/login"), editor.get("/no/such/page")):
        csp = policy(response)
        assert csp["default-src"] == "'self'"
        assert csp["script-src"] == "'self'"  # no inline script, no eval
        assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
        assert csp["form-action"] == "'self'"
    # Swagger UI sets itself up with an inline script that holds the API description.
    docs = policy(httpx.get(live_server + "/api/docs"))
    assert docs["script-src"] == "'self' 'unsafe-inline'" and docs["frame-ancestors"] == "'none'"


async def test_a_method_a_route_lacks_is_a_405_naming_those_it_has(api, staff, db):
    """RFC 9110: a 405 lists the methods the resource supports in Allow, for pages and the API alike."""
    client, editor = await api("editor"), await staff("editor")
    for response in (client.request("TRACE", "/api/campaigns"), editor.request("PATCH", "/contacts")):
        assert response.status_code == 405
        assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}


async def test_options_names_every_method_of_the_path(api, db):
    client = await api("editor")
    response = client.options("/api/campaigns")
    assert response.status_code == 204
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST", "OPTIONS"}
