"""Admin pages against the real server: staff accounts and API keys."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import select

from tests.conftest import StaffClient, create_user
from webapp.staff.models import ApiKey, User

NEW_PASSWORD = "a long new password"


async def user_row(db, email: str):
    return (await db.execute(select(User.id, User.name, User.role, User.is_active).where(User.email == email))).one()


def can_sign_in(base_url: str, email: str, password: str) -> bool:
    client = StaffClient(base_url=base_url, timeout=30)
    client.get("/login")
    return client.post("/login", data={"email": email, "password": password}).status_code == 303


# ---- users -------------------------------------------------------------------------------------


async def test_admin_sees_every_account(staff, db):
    client = await staff("admin")
    await create_user(db, "viewer")
    page = client.get("/settings/users").text
    assert "admin@example.com</td>" not in page  # marked as "(you)"
    assert 'admin@example.com <span class="muted">(you)</span>' in page
    assert "viewer@example.com" in page and '<span class="badge role-viewer">viewer</span>' in page
    assert "Last sign-in" in page


async def test_admin_creates_an_account_that_can_sign_in(staff, db, live_server):
    client = await staff("admin")
    response = client.post(
        "/settings/users",
        data={"email": "New.Person@Example.com", "name": "New Person", "role": "editor", "password": NEW_PASSWORD},
    )
    assert response.status_code == 303 and response.headers["location"] == "/settings/users"
    row = await user_row(db, "New.Person@example.com")
    assert (row.name, row.role, row.is_active) == ("New Person", "editor", True)
    assert can_sign_in(live_server, "new.person@example.com", NEW_PASSWORD)
    assert "Account for New.Person@example.com created." in client.get("/settings/users").text


async def test_account_form_errors_sit_next_to_fields(staff, db):
    client = await staff("admin")
    short = client.post(
        "/settings/users",
        data={"email": "someone@example.com", "name": "Some <One>", "role": "viewer", "password": "short"},
    )
    assert short.status_code == 422
    assert "Use at least 10 characters." in short.text
    assert 'value="someone@example.com"' in short.text and 'value="Some &lt;One&gt;"' in short.text
    assert "short" not in re.findall(r'name="password"[^>]*>', short.text)[0]  # never echoed
    assert '<option value="viewer" selected>' in short.text
    for guessable in (" " * 10, "a" * 12, "ab" * 6):
        refused = client.post("/settings/users", data={"email": "someone@example.com", "password": guessable})
        assert refused.status_code == 422 and "anyone could guess it" in refused.text, repr(guessable)
    for guessable, why in (
        ("password123", "This is a very common password."),
        ("qwertyuiop", "This is a top-100 common password."),
        ("someone@example.com", "It holds this account&#39;s name or address"),
        ("someone2026", "It holds this account&#39;s name or address"),
    ):
        refused = client.post(
            "/settings/users",
            data={"email": "someone@example.com", "name": "Someone", "role": "viewer", "password": guessable},
        )
        assert refused.status_code == 422 and "Too easy to guess." in refused.text, guessable
        assert why in refused.text and 'id="password-error"' in refused.text, guessable

    bad = client.post("/settings/users", data={"email": "not an address", "role": "owner", "password": NEW_PASSWORD})
    assert bad.status_code == 422
    assert "Choose a role: admin, editor or viewer." in bad.text
    assert 'class="field invalid"' in bad.text

    duplicate = client.post(
        "/settings/users", data={"email": "ADMIN@example.com", "role": "viewer", "password": NEW_PASSWORD}
    )
    assert duplicate.status_code == 422 and "A staff account for ADMIN@example.com already exists." in duplicate.text
    assert len((await db.scalars(select(User))).all()) == 1


async def test_admin_edits_role_name_activity_and_password(staff, db, live_server):
    client = await staff("admin")
    other = await create_user(db, "viewer")
    form = client.get(f"/settings/users/{other.id}/edit").text
    assert 'value="Viewer"' in form and '<option value="viewer" selected>' in form and " checked>" in form

    response = client.post(
        f"/settings/users/{other.id}/edit",
        data={"name": "Vera", "role": "editor", "is_active": "true", "password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert (await user_row(db, other.email))[1:] == ("Vera", "editor", True)
    assert can_sign_in(live_server, other.email, NEW_PASSWORD)

    # Leaving the password empty keeps it; an unticked "active" box is not sent and means inactive.
    client.post(f"/settings/users/{other.id}/edit", data={"name": "Vera", "role": "editor"})
    assert (await user_row(db, other.email)).is_active is False
    assert not can_sign_in(live_server, other.email, NEW_PASSWORD)

    short = client.post(f"/settings/users/{other.id}/edit", data={"name": "Vera", "role": "editor", "password": "123"})
    assert short.status_code == 422 and "Use at least 10 characters." in short.text


async def test_admin_cannot_demote_or_deactivate_themselves(staff, db):
    client = await staff("admin")
    me = await user_row(db, "admin@example.com")
    demote = client.post(f"/settings/users/{me.id}/edit", data={"name": "Admin", "role": "editor", "is_active": "true"})
    assert demote.status_code == 422
    assert "You cannot remove your own admin rights or deactivate yourself." in demote.text
    deactivate = client.post(f"/settings/users/{me.id}/edit", data={"name": "Admin", "role": "admin"})
    assert deactivate.status_code == 422
    db.expire_all()
    assert (await user_row(db, "admin@example.com"))[2:] == ("admin", True)
    assert client.get("/settings/users").status_code == 200  # still an admin

    rename = client.post(f"/settings/users/{me.id}/edit", data={"name": "Boss", "role": "admin", "is_active": "true"})
    assert rename.status_code == 303


async def test_unknown_account_is_404(staff):
    client = await staff("admin")
    assert client.get("/settings/users/999/edit").status_code == 404
    assert client.post("/settings/users/99999999999999999999/edit", data={"role": "viewer"}).status_code == 404


# ---- API keys ------------------------------------------------------------------------------------


def shown_key(page: str) -> str:
    return html.unescape(re.search(r'<p class="secret" id="new-api-key">([^<]+)</p>', page).group(1))


async def test_api_key_is_shown_once_and_works_as_bearer(staff, db, live_server):
    client = await staff("admin")
    created = client.post("/settings/api-keys", data={"name": "CRM sync", "role": "viewer"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    plain = shown_key(created.text)
    assert "it will not be shown again" in created.text

    stored = (await db.scalars(select(ApiKey))).one()
    assert stored.name == "CRM sync" and stored.role == "viewer"
    assert plain not in stored.key_hash and plain.startswith(stored.prefix)
    index = client.get("/settings/api-keys").text
    assert "CRM sync" in index and f"<code>{stored.prefix}…</code>" in index
    assert plain not in index

    api = httpx.Client(base_url=live_server, timeout=30)
    assert api.get("/api/lists", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert api.get("/api/lists", headers={"Authorization": "Bearer mr_wrong"}).status_code == 401
    assert api.get("/api/lists").status_code == 401
    # The staff session cookie is not an API credential.
    assert client.get("/api/lists").status_code == 401
    db.expire_all()
    assert (await db.scalars(select(ApiKey))).one().last_used_at is not None


async def test_revoked_key_gets_401(staff, db, live_server):
    client = await staff("admin")
    plain = shown_key(client.post("/settings/api-keys", data={"name": "Old", "role": "editor"}).text)
    key_id = (await db.scalars(select(ApiKey.id))).one()
    api = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {plain}"}, timeout=30)
    assert api.get("/api/lists").status_code == 200

    index = client.get("/settings/api-keys").text
    assert f'hx-post="/settings/api-keys/{key_id}/revoke"' in index and "hx-confirm=" in index
    confirm = client.get(f"/settings/api-keys/{key_id}/revoke")  # for browsers without JavaScript
    assert confirm.status_code == 200 and "Revoke the key <strong>Old</strong>" in confirm.text

    assert client.post(f"/settings/api-keys/{key_id}/revoke").status_code == 303
    again = client.post(f"/settings/api-keys/{key_id}/revoke")  # from a page left open: nothing to do or log
    assert again.status_code == 409 and "The key Old was revoked already." in again.text
    response = api.get("/api/lists")
    assert response.status_code == 401
    assert response.json()["detail"] == "The API key is not valid or has been revoked."
    assert "revoked" in client.get("/settings/api-keys").text
    assert client.post("/settings/api-keys/999/revoke").status_code == 404
    # The name of a revoked key is free again; one in use is not (the audit log names keys by name).
    assert client.post("/settings/api-keys", data={"name": "old", "role": "editor"}).status_code == 201
    taken = client.post("/settings/api-keys", data={"name": "OLD", "role": "viewer"})
    assert taken.status_code == 422 and "is named old already: choose another name." in taken.text
    assert 'value="OLD"' in taken.text


async def test_api_key_form_errors(staff, db):
    client = await staff("admin")
    unnamed = client.post("/settings/api-keys", data={"role": "viewer"})
    assert unnamed.status_code == 422 and "Give the key a name that says who uses it." in unnamed.text
    assert '<option value="viewer" selected>' in unnamed.text
    admin_key = client.post("/settings/api-keys", data={"name": "Root", "role": "admin"})
    assert (
        admin_key.status_code == 422 and "API keys are editor (read and write) or viewer (read only)." in admin_key.text
    )
    assert 'value="Root"' in admin_key.text
    assert (await db.scalars(select(ApiKey))).all() == []


async def test_only_admins_see_the_settings_links(staff):
    admin, editor = await staff("admin"), await staff("editor")
    assert 'href="/settings/users"' in admin.get("/").text
    assert 'href="/settings/users"' not in editor.get("/").text
