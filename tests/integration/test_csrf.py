"""CSRF: every change made with the staff session cookie needs the form's token; only API calls
that carry a Bearer key (no ambient credentials) and the subscribers' public posts go without.
The routes are read from the app, so a route added later is swept too."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from tests.support.routes import unsafe_routes
from webapp.staff.models import ApiKey

# Posted by subscribers and mail clients, who have no staff session: RFC 8058 one-click
# unsubscribe, the preference centre, and sign-up forms embedded on other sites; and by mail
# providers, whose webhooks carry their own signatures.
PUBLIC = ("/u/", "/subscribe/", "/webhooks/")
REFUSED = "CSRF token verification failed"


def without_token(client: httpx.Client) -> httpx.Client:
    """The signed-in browser's cookies (session and CSRF cookie), as another site's form sends them."""
    return httpx.Client(base_url=client.base_url, cookies=client.cookies, timeout=30)


def test_the_public_exceptions_are_the_ones_we_mean():
    public = {(r.method, r.template) for r in unsafe_routes() if r.template.startswith(PUBLIC)}
    assert public == {
        ("POST", "/u/unsubscribe/{token}"),
        ("POST", "/u/preferences/{token}"),
        ("POST", "/u/preferences/{token}/data"),
        ("POST", "/subscribe/{list_id}"),
        ("POST", "/subscribe/confirm/{token}"),
        ("POST", "/subscribe/confirm/{token}/resend"),
        ("POST", "/webhooks/amazon-ses"),
        ("POST", "/webhooks/sendgrid"),
        ("POST", "/webhooks/postmark"),
        ("POST", "/webhooks/mailgun"),
        ("POST", "/webhooks/generic"),
    }


async def test_every_cookie_authenticated_change_needs_the_token(staff, db):
    admin = await staff("admin")
    forged = without_token(admin)
    swept = [r for r in unsafe_routes() if not r.template.startswith(PUBLIC)]
    assert {"/settings/api-keys", "/settings/users", "/logout", "/login", "/api/contacts"} <= {r.path for r in swept}
    let_through = []
    for route in swept:
        response = forged.request(route.method, route.path, data={"name": "from another site", "role": "editor"})
        if route.template.startswith("/api/"):  # the session is no way into the API: refused before CSRF
            refused = response.status_code == 401
        else:
            refused = response.status_code == 403 and REFUSED in response.text
        if not refused:
            let_through.append(f"{route.method} {route.path} -> {response.status_code}")
    assert let_through == []
    assert await db.scalar(select(func.count()).select_from(ApiKey)) == 0
    # The same browser with the token gets through: the refusals above were CSRF's.
    assert admin.post("/settings/api-keys", data={"name": "mine", "role": "editor"}).status_code == 201


async def test_api_calls_with_a_bearer_key_need_no_token(api, staff, db):
    client = await api("editor")
    response = client.post("/api/contacts", json={"email": "new@example.com"})
    assert response.status_code == 201
    # A session cookie is no way into the API, with or without a token; a key is needed, and said so.
    admin = await staff("admin")
    assert admin.post("/api/contacts", json={"email": "other@example.com"}).status_code == 401
    keyless = without_token(admin).post("/api/contacts", json={"email": "other@example.com"})
    assert keyless.status_code == 401 and keyless.headers["www-authenticate"] == "Bearer"
