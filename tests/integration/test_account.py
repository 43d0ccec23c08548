"""Every staff member's own account page (/account): their name, and their password, changed only
with the current one; a new password keeps this session and ends the others."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_PASSWORD, create_user, sign_in
from tests.integration.test_auth import NEW_PASSWORD, signed_in
from webapp.staff.service.passwords import verify_password


def change(client, current: str, new: str, again: str | None = None):
    data = {"current_password": current, "password": new, "password_confirm": new if again is None else again}
    return client.post("/account/password", data=data)


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
async def test_every_role_renames_itself_and_sees_the_name_beside_its_role(db, live_server, role):
    user = await create_user(db, role)
    client = sign_in(live_server, user.email)
    page = client.get("/account")
    assert page.status_code == 200 and user.email in page.text
    assert 'href="/account"' in client.get("/").text  # the name in the menu leads here

    assert client.post("/account", data={"name": "Ada Lovelace"}).status_code == 303
    await db.refresh(user)
    assert user.name == "Ada Lovelace"
    assert "Ada Lovelace" in client.get("/").text

    refused = client.post("/account", data={"name": "x" * 300})
    assert refused.status_code == 422 and 'id="name-error"' in refused.text
    assert "x" * 300 in refused.text  # what was typed is kept
    await db.refresh(user)
    assert user.name == "Ada Lovelace"


async def test_a_new_password_needs_the_current_one_keeps_this_session_and_ends_the_others(db, live_server):
    user = await create_user(db, "viewer")
    here, elsewhere = sign_in(live_server, user.email), sign_in(live_server, user.email)

    for (current, new, again), field, message in (
        (("wrong password!", NEW_PASSWORD, None), "current_password", "not your current password"),
        ((TEST_PASSWORD, "short", None), "password", "at least"),
        ((TEST_PASSWORD, "1234567890", None), "password", "too easy to guess"),
        ((TEST_PASSWORD, f"{user.email}1", None), "password", "this account&#39;s name or address"),
        ((TEST_PASSWORD, TEST_PASSWORD, None), "password", "that is your current password"),
        ((TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!"), "password_confirm", "differ"),
    ):
        refused = change(here, current, new, again)
        assert refused.status_code == 422, field
        assert f'id="{field}-error"' in refused.text and message in refused.text.lower(), field
        assert new not in refused.text and current not in refused.text  # passwords are never shown back
    assert signed_in(elsewhere)

    assert change(here, TEST_PASSWORD, NEW_PASSWORD).status_code == 303
    assert signed_in(here) and not signed_in(elsewhere)
    sign_in(live_server, user.email, NEW_PASSWORD)
    assert here.post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 400


async def test_guessing_the_current_password_is_throttled_like_sign_in(db, live_server):
    user = await create_user(db, "editor")
    client = sign_in(live_server, user.email)
    for _ in range(5):
        assert change(client, "a wrong guess", NEW_PASSWORD).status_code == 422
    locked = change(client, TEST_PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 429 and "Too many failed" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    await db.refresh(user)
    assert verify_password(user.password_hash, TEST_PASSWORD), "the password did not change"
    assert client.post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 429


async def test_the_account_forms_need_a_csrf_token(db, live_server):
    user = await create_user(db, "admin")
    client = sign_in(live_server, user.email)
    client.cookies.delete("mailroom_csrf")
    assert client.post("/account", data={"name": "Mallory"}).status_code == 403
    assert client.post("/account/password", data={"current_password": TEST_PASSWORD}).status_code == 403
