"""Two-step sign-in (TOTP): set up from one's account page with the app's code, then signing in
takes the password and a code (no code twice) or a recovery code (each once); wrong codes are
throttled; the owner turns it off with their password, an admin for someone who lost their phone."""

from __future__ import annotations

import re
import time

import pyotp

from tests.conftest import TEST_PASSWORD, StaffClient, create_user, sign_in
from tests.integration.test_auth import signed_in

SETUP_KEY = re.compile(r'id="setup-key"[^>]*>([A-Z2-7 ]+)<')
RECOVERY_CODE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def wrong_code(secret: str) -> str:
    taken = {code(secret, offset) for offset in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in taken)


def set_up(client: StaffClient) -> tuple[str, list[str]]:
    """Turn two-step sign-in on as a person does: the key from the page, the app's code back."""
    key = SETUP_KEY.search(client.get("/account/two-step").text)
    assert key is not None
    secret = key.group(1).replace(" ", "")
    done = client.post("/account/two-step", data={"code": code(secret)})
    assert done.status_code == 200, done.text
    return secret, RECOVERY_CODE.findall(done.text)


def password_step(live_server: str, email: str) -> StaffClient:
    client = StaffClient(base_url=live_server, follow_redirects=False, timeout=30)
    client.get("/login")
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "next": "/contacts"})
    assert (response.status_code, response.headers["location"]) == (303, "/login/code")
    return client


async def test_setting_up_takes_the_apps_code_and_shows_recovery_codes_once(db, live_server):
    user = await create_user(db, "viewer")
    client = sign_in(live_server, user.email)
    assert "Set up two-step sign-in" in client.get("/account").text
    page = client.get("/account/two-step")
    assert page.status_code == 200 and "<svg" in page.text and "QR code for your authenticator app" in page.text
    secret = SETUP_KEY.search(page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert client.get("/account/two-step").text.count(secret[:4] + " " + secret[4:8]) == 1  # the same key again

    refused = client.post("/account/two-step", data={"code": wrong_code(secret)})
    assert refused.status_code == 422 and 'id="code-error"' in refused.text
    done = client.post("/account/two-step", data={"code": code(secret)})
    codes = RECOVERY_CODE.findall(done.text)
    assert done.status_code == 200 and len(set(codes)) == 10

    await db.refresh(user)
    assert user.two_step and secret.encode() not in bytes(user.totp_secret_encrypted or b"")  # encrypted at rest
    assert len(user.recovery_code_hashes) == 10 and not set(codes) & set(user.recovery_code_hashes)
    account = client.get("/account").text
    assert "10 recovery codes left" in account and "Turn off two-step sign-in" in account
    assert client.get("/account/two-step").headers["location"] == "/account"  # on already: nothing to show
    assert signed_in(client)  # turning it on keeps this session


async def test_signing_in_takes_the_password_then_a_code_that_works_once(db, live_server):
    user = await create_user(db, "editor")
    secret, _ = set_up(sign_in(live_server, user.email))

    client = password_step(live_server, user.email)
    assert not signed_in(client)  # a right password alone is not a sign-in
    refused = client.post("/login/code", data={"code": wrong_code(secret)})
    assert refused.status_code == 400 and "That code is not right" in refused.text
    assert "code: That" not in refused.text  # the message, not the field it is about
    now = code(secret, 1)  # the next step's: the set-up used this one's
    done = client.post("/login/code", data={"code": now[:3] + " " + now[3:]})  # as some apps show it
    assert (done.status_code, done.headers["location"]) == (303, "/contacts")
    assert signed_in(client)

    again = password_step(live_server, user.email)
    assert again.post("/login/code", data={"code": now}).status_code == 400  # seen over a shoulder: spent
    assert not signed_in(again)
    assert StaffClient(base_url=live_server, follow_redirects=False).get("/login/code").headers["location"] == "/login"


async def test_a_browser_remembered_at_sign_in_is_not_asked_for_a_code_for_30_days(db, live_server):
    user = await create_user(db, "editor")
    secret, _ = set_up(sign_in(live_server, user.email))
    client = password_step(live_server, user.email)
    page = client.get("/login/code").text
    assert "ask for a code on this browser for 30 days" in page
    refused = client.post("/login/code", data={"code": wrong_code(secret), "remember": "yes"})
    assert refused.status_code == 400 and 'name="remember" value="yes" checked' in refused.text  # kept
    done = client.post("/login/code", data={"code": code(secret, 1), "remember": "yes"})
    assert done.status_code == 303
    (cookie,) = [c for c in done.headers.get_list("set-cookie") if c.startswith("mailroom_two_step_browser=")]
    for attribute in ("max-age=2592000", "path=/login", "httponly", "samesite=strict"):
        assert attribute in cookie.lower(), cookie

    client.post("/logout")
    again = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "next": "/lists"})
    assert (again.status_code, again.headers["location"]) == (303, "/lists"), "no code asked"
    assert signed_in(client)
    assert password_step(live_server, user.email).get("/login/code").status_code == 200, "other browsers are asked"

    assert client.post("/account/sign-out-elsewhere").status_code == 303  # forgets remembered browsers too
    client.post("/logout")
    forgotten = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "next": "/lists"})
    assert (forgotten.status_code, forgotten.headers["location"]) == (303, "/login/code")


async def test_a_recovery_code_signs_in_once(db, live_server):
    user = await create_user(db, "editor")
    _, codes = set_up(sign_in(live_server, user.email))
    client = password_step(live_server, user.email)
    assert client.post("/login/code", data={"code": codes[3].upper()}).status_code == 303
    assert "9 recovery codes left" in client.get("/account").text
    again = password_step(live_server, user.email)
    assert again.post("/login/code", data={"code": codes[3]}).status_code == 400


async def test_wrong_codes_are_throttled_and_a_right_password_does_not_reset_the_count(db, live_server):
    user = await create_user(db, "editor")
    secret, _ = set_up(sign_in(live_server, user.email))
    for attempt in range(5):
        client = password_step(live_server, user.email)  # the password is right every time
        assert client.post("/login/code", data={"code": wrong_code(secret)}).status_code == 400, attempt
    client = password_step(live_server, user.email)
    locked = client.post("/login/code", data={"code": code(secret, 1)})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert not signed_in(client)


async def test_the_owner_turns_it_off_with_their_password_and_an_admin_for_them(db, live_server):
    user, admin = await create_user(db, "viewer"), await create_user(db, "admin")
    client = sign_in(live_server, user.email)
    set_up(client)
    refused = client.post("/account/two-step/off", data={"off_password": "not my password"})
    assert refused.status_code == 422 and 'id="off_password-error"' in refused.text
    assert client.post("/account/two-step/off", data={"off_password": TEST_PASSWORD}).status_code == 303
    await db.refresh(user)
    assert not user.two_step and user.recovery_code_hashes == []
    sign_in(live_server, user.email)  # the password alone again

    set_up(client)
    admin_client = sign_in(live_server, admin.email)
    assert "Turn off two-step sign-in" in admin_client.get(f"/settings/users/{user.id}/edit").text
    assert "<td>on</td>" in admin_client.get("/settings/users").text
    assert client.post(f"/settings/users/{user.id}/two-step/off").status_code == 403  # admins only
    assert admin_client.post(f"/settings/users/{user.id}/two-step/off").status_code == 303
    await db.refresh(user)
    assert not user.two_step
    sign_in(live_server, user.email)  # the password alone again


async def test_admins_can_require_it_and_then_nobody_without_it_gets_past_its_setup(db, live_server, api):
    admin, editor = await create_user(db, "admin"), await create_user(db, "editor")
    admin_client = sign_in(live_server, admin.email)
    editor_client = sign_in(live_server, editor.email)
    assert editor_client.post("/settings/users/two-step-required", data={"required": "yes"}).status_code == 403
    users_page = admin_client.get("/settings/users").text
    assert "2 active accounts have not set it up yet." in users_page
    required = admin_client.post("/settings/users/two-step-required", data={"required": "yes"})
    assert (required.status_code, required.headers["location"]) == (303, "/settings/users")

    # Everyone without it, the admin who required it too, is sent to set it up, and can do nothing else.
    for client in (editor_client, admin_client):
        for page in ("/campaigns", "/account", "/settings/users"):
            response = client.get(page)
            assert (response.status_code, response.headers["location"]) == (303, "/account/two-step"), page
        refused_change = client.post("/contacts", data={"email": "x@example.com"})
        assert refused_change.status_code == 403 and "Set up two-step sign-in first" in refused_change.text
    hx = editor_client.get("/campaigns", headers={"HX-Request": "true"})
    assert (hx.status_code, hx.headers["HX-Redirect"]) == (204, "/account/two-step")
    setup = editor_client.get("/account/two-step")
    assert setup.status_code == 200 and "requires two-step sign-in for every staff member" in setup.text
    assert 'href="/account">Cancel' not in setup.text and "Set up two-step sign-in first" in setup.text
    assert (await api("editor")).get("/api/campaigns").status_code == 200  # keys are not people

    set_up(editor_client)
    assert editor_client.get("/campaigns").status_code == 200
    assert admin_client.get("/campaigns").status_code == 303
    assert admin_client.post("/logout").headers["location"] == "/login"  # signing out is always possible

    other_admin = sign_in(live_server, (await create_user(db, "admin", email="second@example.com")).email)
    set_up(other_admin)
    lifted = other_admin.post("/settings/users/two-step-required", data={})
    assert lifted.status_code == 303
    assert sign_in(live_server, admin.email).get("/campaigns").status_code == 200
