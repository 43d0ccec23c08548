"""Sign-in, sessions, CSRF and throttling against the real server."""

from __future__ import annotations

import httpx
import lxml.html
import pytest

from tests.conftest import TEST_PASSWORD, StaffClient, create_user, sign_in


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
async def test_every_role_signs_in_and_out(db, live_server, role):
    user = await create_user(db, role)
    client = sign_in(live_server, user.email)
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "You are signed out." in client.get("/login").text
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_wrong_password_and_unknown_account_look_the_same(db, live_server):
    await create_user(db, "editor")
    client = StaffClient(base_url=live_server)
    client.get("/login")
    wrong = client.post("/login", data={"email": "editor@example.com", "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"email": "ghost@example.com", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert "Email or password is incorrect." in wrong.text and "email: Email" not in wrong.text
    assert "Email or password is incorrect." in unknown.text
    assert 'value="editor@example.com"' in wrong.text  # what was typed is kept


async def test_login_is_throttled_per_account(db, live_server):
    await create_user(db, "editor")
    client = StaffClient(base_url=live_server)
    client.get("/login")
    for _ in range(5):
        client.post("/login", data={"email": "editor@example.com", "password": "wrong-password"})
    response = client.post("/login", data={"email": "editor@example.com", "password": "correct horse battery"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert int(response.headers["retry-after"]) > 0


async def test_login_form_requires_csrf_token(db, live_server):
    await create_user(db, "editor")
    response = httpx.post(
        live_server + "/login", data={"email": "editor@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 403


async def test_next_parameter_cannot_redirect_off_site(db, live_server):
    user = await create_user(db, "editor")
    client = StaffClient(base_url=live_server)
    client.get("/login")
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery", "next": "//evil.example/phish"}
    )
    assert response.headers["location"] == "/"


async def test_session_cookie_is_http_only(db, live_server):
    user = await create_user(db, "editor")
    client = StaffClient(base_url=live_server)
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("mailroom_session=")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=lax" in cookie[0]


async def test_a_session_id_known_before_sign_in_is_never_signed_in(db, live_server):
    """Session fixation: an id planted in the browser (made up, or a real signed-out session's) must
    not become the signed-in session; signing in and out each move the session to a new id."""
    user = await create_user(db, "editor")

    def holder_of(session_id: str) -> StaffClient:
        client = StaffClient(base_url=live_server, follow_redirects=False, timeout=30)
        client.cookies.set("mailroom_session", session_id, domain=httpx.URL(live_server).host)  # as a browser would
        return client

    planted = "ab" * 32
    victim = holder_of(planted)
    victim.get("/login")
    assert victim.cookies.get("mailroom_session") == "null", "an id the server never issued is dropped"
    assert victim.post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 303
    signed_in_id = victim.cookies.get("mailroom_session")
    assert signed_in_id not in (None, planted) and signed_in(victim)
    assert not signed_in(holder_of(planted))

    assert victim.post("/logout").status_code == 303
    signed_out_id = victim.cookies.get("mailroom_session")  # a real session: it holds "You are signed out."
    assert signed_out_id not in (None, signed_in_id)
    assert not signed_in(holder_of(signed_in_id)) and not signed_in(victim)
    assert victim.post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 303
    assert victim.cookies.get("mailroom_session") not in (signed_out_id, signed_in_id) and signed_in(victim)
    assert not signed_in(holder_of(signed_out_id))


async def test_healthz(live_server):
    assert httpx.get(live_server + "/healthz").json() == {"database": "ok", "redis": "ok"}


# ---- sessions end when they should ---------------------------------------------------------------

NEW_PASSWORD = "a brand new password"


def signed_in(client: StaffClient) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


async def test_a_password_reset_ends_every_session_of_that_user(db, live_server):
    admin, user = await create_user(db, "admin"), await create_user(db, "editor")
    admin_client = sign_in(live_server, admin.email)
    laptop, phone = sign_in(live_server, user.email), sign_in(live_server, user.email)
    assert signed_in(laptop) and signed_in(phone)

    response = admin_client.post(
        f"/settings/users/{user.id}/edit",
        data={"name": user.name, "role": "editor", "is_active": "true", "password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert not signed_in(laptop) and not signed_in(phone)
    assert laptop.get("/contacts").headers["location"] == "/login?next=/contacts"
    assert signed_in(admin_client)  # the admin's own session is not the user's

    # Saving the account without a new password ends nothing.
    again = sign_in(live_server, user.email, NEW_PASSWORD)
    admin_client.post(f"/settings/users/{user.id}/edit", data={"name": "Renamed", "role": "editor", "is_active": "1"})
    assert signed_in(again)


async def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(db, live_server):
    admin = await create_user(db, "admin")
    here, elsewhere = sign_in(live_server, admin.email), sign_in(live_server, admin.email)
    response = here.post(
        f"/settings/users/{admin.id}/edit",
        data={"name": admin.name, "role": "admin", "is_active": "true", "password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert signed_in(here) and not signed_in(elsewhere)
    assert here.get("/settings/users").status_code == 200


async def test_signing_out_everywhere_else_keeps_this_session_and_ends_the_others(db, live_server):
    viewer = await create_user(db, "viewer")
    here, elsewhere = sign_in(live_server, viewer.email), sign_in(live_server, viewer.email)
    account = here.get("/account").text
    assert "Sign out everywhere else" in account
    done = here.post("/account/sign-out-elsewhere")
    assert (done.status_code, done.headers["location"]) == (303, "/account")
    assert signed_in(here) and not signed_in(elsewhere)
    assert "Every other session signed in as you is signed out" in here.get("/account").text
    assert signed_in(sign_in(live_server, viewer.email)), "signing in again works as before"


FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


def sign_in_with(live_server: str, email: str, agent: str) -> StaffClient:
    client = StaffClient(base_url=live_server, follow_redirects=False, timeout=30, headers={"User-Agent": agent})
    client.get("/login")
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 303
    return client


def listed_sessions(client: StaffClient) -> list[tuple[str, bool]]:
    """(browser, whether it is this one) of each row of the account page's list."""
    page = lxml.html.fromstring(client.get("/account").text)
    return [
        (row.xpath("string(td[1])").replace("this browser", "").strip(), bool(row.xpath(".//*[@class='badge active']")))
        for row in page.xpath("//table[@id='session-list']/tbody/tr")
    ]


def end_button(client: StaffClient, browser: str) -> str:
    page = lxml.html.fromstring(client.get("/account").text)
    (action,) = page.xpath(
        f"//table[@id='session-list']//tr[starts-with(normalize-space(td[1]), '{browser}')]//form/@action"
    )
    return str(action)


async def test_the_account_page_lists_where_one_is_signed_in_and_signs_out_any_one(db, live_server):
    viewer, other = await create_user(db, "viewer"), await create_user(db, "viewer", "other@example.com")
    laptop = sign_in_with(live_server, viewer.email, FIREFOX_ON_WINDOWS)
    phone = sign_in_with(live_server, viewer.email, SAFARI_ON_IPHONE)
    someone_else = sign_in_with(live_server, other.email, FIREFOX_ON_WINDOWS)
    assert listed_sessions(laptop) == [("Firefox 133 on Windows", True), ("Mobile Safari 18 on iOS", False)]
    assert listed_sessions(phone)[0] == ("Mobile Safari 18 on iOS", True)
    assert "127.0.0.1" in laptop.get("/account").text

    ended = laptop.post(end_button(laptop, "Mobile Safari"))
    assert (ended.status_code, ended.headers["location"]) == (303, "/account#sessions")
    assert "That session is signed out." in laptop.get("/account").text
    assert not signed_in(phone) and signed_in(laptop) and signed_in(someone_else)
    assert listed_sessions(laptop) == [("Firefox 133 on Windows", True)]
    assert laptop.post(ended.request.url.path).status_code == 303  # twice: already ended, nothing breaks
    assert "That session had already ended." in laptop.get("/account").text

    # One's own session is signed out from the menu, not from the list; another account's cannot be reached.
    page = lxml.html.fromstring(laptop.get("/account").text)
    assert not page.xpath("//table[@id='session-list']//form")
    other_handle = end_button(sign_in_with(live_server, other.email, SAFARI_ON_IPHONE), "Firefox")
    laptop.post(other_handle)
    assert signed_in(someone_else)


async def test_signing_out_leaves_the_list_and_a_new_password_keeps_only_this_session_listed(db, live_server):
    editor = await create_user(db, "editor")
    laptop = sign_in_with(live_server, editor.email, FIREFOX_ON_WINDOWS)
    phone = sign_in_with(live_server, editor.email, SAFARI_ON_IPHONE)
    tablet = sign_in_with(live_server, editor.email, SAFARI_ON_IPHONE)
    tablet.post("/logout")
    assert len(listed_sessions(laptop)) == 2
    changed = laptop.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    assert not signed_in(phone)
    assert listed_sessions(laptop) == [("Firefox 133 on Windows", True)]
    laptop.post("/account/sign-out-elsewhere")
    assert listed_sessions(laptop) == [("Firefox 133 on Windows", True)]


async def test_deactivating_an_account_ends_its_sessions_for_good(db, live_server):
    admin, user = await create_user(db, "admin"), await create_user(db, "viewer")
    admin_client, client = sign_in(live_server, admin.email), sign_in(live_server, user.email)
    assert signed_in(client)
    admin_client.post(f"/settings/users/{user.id}/edit", data={"name": user.name, "role": "viewer"})
    assert not signed_in(client)
    # Active again, the account signs in afresh: a session from before stays ended.
    admin_client.post(f"/settings/users/{user.id}/edit", data={"name": user.name, "role": "viewer", "is_active": "yes"})
    assert not signed_in(client)
    assert signed_in(sign_in(live_server, user.email))
