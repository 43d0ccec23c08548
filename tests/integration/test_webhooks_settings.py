"""Settings → Webhooks against the real web server: admins add, edit and delete endpoints, the
signing secret is shown once (and again only to an admin who asks), mistakes come back next to the
fields with what was typed, URLs that lead to private networks are refused unless allowed, and
editors and viewers never see any of it. (The route sweeps in test_roles.py and test_csrf.py also
cover every webhooks route.)"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from sqlalchemy import func, select, update

from webapp.core import secret_box
from webapp.webhooks.models import WebhookDelivery, WebhookEndpoint
from webapp.webhooks.service import sending

EVENTS = ["contact.created", "email.opened"]


def endpoint_form(url: str = "https://93.184.215.14/hooks", **changes) -> dict:
    form = {"url": url, "description": "CRM", "event_types": EVENTS, "is_active": "yes"}
    return {k: v for k, v in {**form, **changes}.items() if v is not None}


async def only_endpoint(db) -> WebhookEndpoint:
    db.expire_all()
    return (await db.scalars(select(WebhookEndpoint))).one()


async def test_admin_adds_an_endpoint_and_sees_its_secret_once(staff, db):
    admin = await staff("admin")
    response = admin.post("/settings/webhooks", data=endpoint_form())
    assert response.status_code == 201 and response.headers["cache-control"] == "no-store"
    endpoint = await only_endpoint(db)
    secret = secret_box.decrypt(endpoint.secret_encrypted)
    assert secret.startswith("whsec_") and secret in response.text
    assert secret.encode() not in endpoint.secret_encrypted  # encrypted at rest
    assert (endpoint.url, endpoint.description, endpoint.event_types) == ("https://93.184.215.14/hooks", "CRM", EVENTS)
    assert endpoint.is_active and not endpoint.allow_private

    listing = admin.get("/settings/webhooks").text
    assert f'<tr id="webhook-{endpoint.id}">' in listing and "contact.created, email.opened" in listing
    assert secret not in listing + admin.get(f"/settings/webhooks/{endpoint.id}").text
    revealed = admin.post(f"/settings/webhooks/{endpoint.id}/secret")
    assert revealed.status_code == 200 and secret in revealed.text
    assert revealed.headers["cache-control"] == "no-store"


async def test_mistakes_are_shown_next_to_the_fields_with_what_was_typed(staff, db):
    admin = await staff("admin")
    response = admin.post(
        "/settings/webhooks",
        data=endpoint_form(url="ftp://example.com/x", event_types=["email.opened", "email.teleported"]),
    )
    assert response.status_code == 422
    assert "Enter an http:// or https:// URL" in response.text
    assert "Unknown event type &#39;email.teleported&#39;" in response.text
    assert response.text.count('class="field invalid"') == 1 and 'class="field field-group invalid"' in response.text
    # The boxes are a group named "Events", which points at its error
    group = '<fieldset class="field field-group invalid" id="event_types-field" aria-describedby="event_types-error"'
    assert group in response.text
    assert "<legend>Events</legend>" in response.text
    assert 'value="ftp://example.com/x"' in response.text
    assert 'value="email.opened" checked' in response.text  # the ticked box stays ticked

    too_long = admin.post("/settings/webhooks", data=endpoint_form(url="https://example.com/" + "x" * 2000))
    assert too_long.status_code == 422 and "Use a URL of at most 2,000 characters." in too_long.text

    none_chosen = admin.post("/settings/webhooks", data=endpoint_form(event_types=None))
    assert none_chosen.status_code == 422 and "Choose at least one event." in none_chosen.text
    with_password = admin.post("/settings/webhooks", data=endpoint_form(url="https://u:p@example.com/"))
    assert "Leave the user name and password out of the URL" in with_password.text
    assert (await db.scalars(select(WebhookEndpoint))).first() is None


async def test_private_and_loopback_urls_are_refused_unless_allowed(staff, db):
    admin = await staff("admin")
    for url, reason in (
        ("http://127.0.0.1:9/hook", "127.0.0.1 is a loopback address"),
        ("http://localhost/hook", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://[::1]/hook", "::1 is a loopback address"),
        ("http://[::ffff:192.168.0.1]/hook", "192.168.0.1 is a private address (::ffff:192.168.0.1 stands for it)"),
        ("http://[fe80::1]/hook", "is a link-local address"),
        ("http://0.0.0.0/hook", "0.0.0.0 is an unspecified address"),
        ("http://255.255.255.255/hook", "255.255.255.255 is the broadcast address"),
        ("http://[fe80::1%25eth0]/hook", "fe80::1 is a link-local address"),
        ("http://224.0.0.1/hook", "224.0.0.1 is a multicast address"),
        ("http://100.64.0.1/hook", "100.64.0.1 is not a public address"),
        ("https://93.184.215.14:0/hook", "Port 0 is no port to send to"),
    ):
        response = admin.post("/settings/webhooks", data=endpoint_form(url=url))
        assert response.status_code == 422, url
        assert reason in response.text, url
    assert (await db.scalars(select(WebhookEndpoint))).first() is None

    allowed = admin.post("/settings/webhooks", data=endpoint_form(url="http://127.0.0.1:9/hook", allow_private="yes"))
    assert allowed.status_code == 201
    assert (await only_endpoint(db)).allow_private


async def test_edit_switch_off_and_delete(staff, db):
    admin = await staff("admin")
    admin.post("/settings/webhooks", data=endpoint_form())
    endpoint = await only_endpoint(db)
    form = admin.get(f"/settings/webhooks/{endpoint.id}/edit").text
    assert 'value="https://93.184.215.14/hooks"' in form and 'value="contact.created" checked' in form

    response = admin.post(
        f"/settings/webhooks/{endpoint.id}/edit",
        data=endpoint_form(url="https://93.184.215.14/v2", event_types=["campaign.completed"], is_active=None),
    )
    assert response.status_code == 303 and response.headers["location"] == "/settings/webhooks"
    endpoint = await only_endpoint(db)
    assert (endpoint.url, endpoint.event_types, endpoint.is_active) == (
        "https://93.184.215.14/v2",
        ["campaign.completed"],
        False,
    )
    assert "delivery log is deleted too" in admin.get(f"/settings/webhooks/{endpoint.id}/delete").text
    assert admin.post(f"/settings/webhooks/{endpoint.id}/delete").status_code == 303
    assert (await db.scalars(select(WebhookEndpoint))).first() is None
    for path in (f"/settings/webhooks/{endpoint.id}", "/settings/webhooks/99999999999999999999999/edit"):
        assert admin.get(path).status_code == 404


async def test_editors_and_viewers_neither_see_nor_change_webhooks(staff, db):
    admin = await staff("admin")
    admin.post("/settings/webhooks", data=endpoint_form())
    endpoint = await only_endpoint(db)
    assert 'href="/settings/webhooks"' in admin.get("/").text
    for role in ("editor", "viewer"):
        client = await staff(role)
        assert 'href="/settings/webhooks"' not in client.get("/").text
        for method, path in (
            ("GET", "/settings/webhooks"),
            ("GET", f"/settings/webhooks/{endpoint.id}"),
            ("POST", f"/settings/webhooks/{endpoint.id}/secret"),
            ("POST", f"/settings/webhooks/{endpoint.id}/secret/rotate"),
            ("POST", f"/settings/webhooks/{endpoint.id}/edit"),
            ("POST", "/settings/webhooks"),
        ):
            response = client.request(method, path, data=endpoint_form(url="https://93.184.215.14/evil"))
            assert response.status_code == 403, (role, method, path)
            assert "whsec_" not in response.text
    assert (await only_endpoint(db)).url == "https://93.184.215.14/hooks"
    assert (await only_endpoint(db)).secret_encrypted == endpoint.secret_encrypted  # nobody replaced it


async def test_a_form_from_another_site_is_refused(staff, db):
    import httpx

    admin = await staff("admin")
    forged = httpx.Client(base_url=admin.base_url, cookies=admin.cookies, timeout=30)
    response = forged.post("/settings/webhooks", data=endpoint_form())
    assert response.status_code == 403 and "CSRF token verification failed" in response.text
    assert (await db.scalars(select(WebhookEndpoint))).first() is None


async def test_a_test_event_goes_to_the_endpoint_signed_and_lands_in_its_log(staff, db, receiver):
    admin = await staff("admin")
    admin.post("/settings/webhooks", data=endpoint_form(url=receiver.url + "/hooks", allow_private="yes"))
    endpoint = await only_endpoint(db)
    page = admin.get(f"/settings/webhooks/{endpoint.id}").text
    assert "Send a test event" in page and 'hx-trigger="every 3s"' not in page

    response = admin.post(f"/settings/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert "Test event queued" in response.text
    assert "webhook.test" in response.text and 'hx-trigger="every 3s"' in response.text  # reloads until sent

    assert await sending.deliver_due() == 1
    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["type"] == "webhook.test" and body["data"]["endpoint_id"] == endpoint.id
    secret = admin.post(f"/settings/webhooks/{endpoint.id}/secret").text.split("whsec_")[1].split("<")[0]
    timestamp = request.headers["mailroom-timestamp"]
    signed = hmac.new(f"whsec_{secret}".encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["mailroom-signature"] == "v1=" + signed.hexdigest()
    page = admin.get(f"/settings/webhooks/{endpoint.id}").text
    assert "succeeded" in page and 'hx-trigger="every 3s"' not in page

    switched_off = endpoint_form(url=receiver.url, is_active=None, allow_private="yes")
    admin.post(f"/settings/webhooks/{endpoint.id}/edit", data=switched_off)
    response = admin.post(f"/settings/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert "tick “Active” before sending it a test event" in response.text
    assert len((await db.scalars(select(WebhookDelivery))).all()) == 1


def signature(secret: str, request) -> str:
    timestamp = request.headers["mailroom-timestamp"]
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()


async def test_a_replaced_secret_signs_beside_the_new_one_until_its_overlap_ends(staff, db, receiver):
    admin = await staff("admin")
    admin.post("/settings/webhooks", data=endpoint_form(url=receiver.url + "/hooks", allow_private="yes"))
    endpoint = await only_endpoint(db)
    old = secret_box.decrypt(endpoint.secret_encrypted)
    page = admin.get(f"/settings/webhooks/{endpoint.id}").text
    assert f'action="/settings/webhooks/{endpoint.id}/secret/rotate"' in page and 'id="previous-secret"' not in page

    response = admin.post(f"/settings/webhooks/{endpoint.id}/secret/rotate", data={"overlap": "24"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    new = secret_box.decrypt((await only_endpoint(db)).secret_encrypted)
    assert new != old and new in response.text and old not in response.text
    assert "The secret it replaces also signs every request until" in response.text
    assert 'id="previous-secret"' in admin.get(f"/settings/webhooks/{endpoint.id}").text

    admin.post(f"/settings/webhooks/{endpoint.id}/test")
    assert await sending.deliver_due() == 1
    [request] = receiver.requests
    assert request.headers["mailroom-signature"] == f"{signature(new, request)} {signature(old, request)}"

    await db.execute(
        update(WebhookEndpoint).values(previous_secret_until=func.now() - timedelta(seconds=1))
    )  # the 24 hours are over
    await db.commit()
    assert 'id="previous-secret"' not in admin.get(f"/settings/webhooks/{endpoint.id}").text
    admin.post(f"/settings/webhooks/{endpoint.id}/test")
    assert await sending.deliver_due() == 1
    assert receiver.requests[1].headers["mailroom-signature"] == signature(new, receiver.requests[1])


async def test_a_leaked_secret_stops_at_once_and_a_made_up_overlap_is_refused(staff, db, receiver):
    admin = await staff("admin")
    admin.post("/settings/webhooks", data=endpoint_form(url=receiver.url + "/hooks", allow_private="yes"))
    endpoint = await only_endpoint(db)
    admin.post(f"/settings/webhooks/{endpoint.id}/secret/rotate", data={"overlap": "72"})

    response = admin.post(f"/settings/webhooks/{endpoint.id}/secret/rotate", data={"overlap": "0"})
    assert "The secret it replaces no longer signs anything" in response.text
    rotated = await only_endpoint(db)
    assert rotated.previous_secret_encrypted is None and rotated.previous_secret_until is None
    admin.post(f"/settings/webhooks/{endpoint.id}/test")
    assert await sending.deliver_due() == 1
    [request] = receiver.requests
    assert request.headers["mailroom-signature"] == signature(secret_box.decrypt(rotated.secret_encrypted), request)

    for overlap in ("5", "-1", "", "24x", "9" * 40):
        refused = admin.post(f"/settings/webhooks/{endpoint.id}/secret/rotate", data={"overlap": overlap})
        assert refused.status_code == 422, overlap
        assert (
            '<p class="field-error" id="overlap-error">Choose how long the old secret goes on signing.</p>'
            in refused.text
        )
        assert "whsec_" not in refused.text
    assert (await only_endpoint(db)).secret_encrypted == rotated.secret_encrypted
