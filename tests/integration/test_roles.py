"""The role sweep. Every staff route that changes something refuses viewers, every admin route
refuses editors and viewers, and a viewer API key cannot write. The routes are read from the app
itself, so a route added later is covered without touching this file."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.support.routes import SAFE_METHODS, Route, all_routes
from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList, ListMember
from webapp.lists.service import lists
from webapp.staff.models import ApiKey, User
from webapp.staff.service import api_keys

NOT_STAFF = ("/api", "/login", "/logout", "/static", "/u/", "/subscribe/", "/archive", "/healthz", "/webhooks/")
REFUSED = re.compile(r"Your role \((viewer|editor)\) cannot do this")


def staff_writes() -> list[Route]:
    """Changes that need an editor or an admin: not those to one's own account (ANY_STAFF)."""
    return [
        r
        for r in all_routes()
        if r.method not in SAFE_METHODS and not r.template.startswith(NOT_STAFF) and r.role != "viewer"
    ]


def staff_reads() -> list[Route]:
    return [r for r in all_routes() if r.method == "GET" and not r.template.startswith(NOT_STAFF) and not r.admin_only]


def admin_routes() -> list[Route]:
    return [r for r in all_routes() if r.admin_only and r.method != "OPTIONS"]


def api_writes() -> list[Route]:
    return [
        r
        for r in all_routes()
        if r.template.startswith("/api/") and not r.template.startswith("/api/docs") and r.method not in SAFE_METHODS
    ]


async def arrange(db) -> None:
    """One row in every table a route's id can point at, each with id 1."""
    admin = await db.scalar(select(User).where(User.role == "admin"))
    email_list = await lists.create_list(db, {"name": "Newsletter"}, created_by="Admin")
    contact = await contacts.create_contact(db, {"email": "someone@example.com"})
    await lists.add_members(db, email_list.id, [contact.id])
    await api_keys.create_key(db, {"name": "Existing", "role": "editor"}, admin.id)
    await db.commit()
    assert email_list.id == contact.id == 1


async def snapshot(db) -> tuple:
    db.expire_all()
    counts = [
        await db.scalar(select(func.count()).select_from(m)) for m in (User, EmailList, Contact, ListMember, ApiKey)
    ]
    state = (await db.execute(select(EmailList.name, EmailList.is_active, EmailList.description))).all()
    revoked = await db.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_not(None)))
    return tuple(counts), state, revoked


def test_the_sweep_sees_the_routes_we_know_of():
    writes = {(r.method, r.template) for r in staff_writes()}
    assert {
        ("POST", "/lists"),
        ("POST", "/lists/{list_id}/delete"),
        ("POST", "/settings/users"),
        ("POST", "/settings/api-keys/{key_id}/revoke"),
    } <= writes
    assert not {r for r in staff_writes() if r.template.startswith(("/login", "/logout", "/api"))}
    admin = {r.template for r in admin_routes()}
    assert {"/settings/users", "/settings/users/{user_id}/edit", "/settings/api-keys"} <= admin
    assert not {t for t in admin if t.startswith(("/lists", "/contacts"))}  # editors' work, not admin-only


def test_only_changes_to_ones_own_session_and_account_are_open_to_viewers():
    open_to_viewers = {r.template for r in all_routes() if r.method not in SAFE_METHODS and r.role == "viewer"}
    assert open_to_viewers == {
        "/logout",
        "/account",
        "/account/password",
        "/account/sign-out-elsewhere",
        "/account/sessions/{handle}/end",
        "/account/two-step",
        "/account/two-step/off",
    }


async def test_a_viewer_cannot_change_anything(staff, db):
    viewer = await staff("viewer")
    await staff("admin")
    await arrange(db)
    before = await snapshot(db)
    for route in staff_writes():
        response = viewer.request(
            route.method, route.path, data={"name": "changed", "ids": "1", "addresses": "x@example.com"}
        )
        assert response.status_code == 403, f"{route.method} {route.path} -> {response.status_code}"
        # Refused by the role guard (not by CSRF, which also says 403): the client sends the token.
        assert REFUSED.search(response.text), f"{route.method} {route.path}: {response.text[:200]}"
    assert await snapshot(db) == before


async def test_a_viewer_can_read_every_staff_page_but_not_open_editing_forms(staff, db):
    viewer = await staff("viewer")
    await staff("admin")
    await arrange(db)
    reads = staff_reads()
    assert {"/", "/lists", "/lists/{list_id}"} <= {r.template for r in reads if r.role is None}
    assert {"/lists/new", "/lists/{list_id}/edit"} <= {r.template for r in reads if r.role == "editor"}
    for route in reads:
        response = viewer.get(route.path)
        if route.role == "editor":
            assert response.status_code == 403 and REFUSED.search(response.text), f"GET {route.path}"
        else:
            assert response.status_code in (200, 404), f"GET {route.path} -> {response.status_code}"


async def test_admin_pages_refuse_editors_and_viewers(staff, db):
    clients = {"editor": await staff("editor"), "viewer": await staff("viewer")}
    await staff("admin")
    await arrange(db)
    before = await snapshot(db)
    for role, client in clients.items():
        for route in admin_routes():
            response = client.request(route.method, route.path, data={"role": "admin", "name": "x"})
            assert response.status_code == 403, f"{role}: {route.method} {route.path} -> {response.status_code}"
            assert f"Your role ({role}) cannot do this" in response.text
    assert await snapshot(db) == before


async def test_editors_pass_the_guard_on_every_other_staff_write(staff, db):
    """The other half of the sweep: the routes refused to viewers are open to editors, so the
    refusals above come from the role and not from a broken route. An empty or odd form never
    causes a server error either."""
    editor = await staff("editor")
    await staff("admin")
    await arrange(db)
    for route in staff_writes():
        if route.admin_only:
            continue
        response = editor.request(route.method, route.path, data={"ids": "1", "addresses": "x@example.com"})
        assert response.status_code != 403 and not REFUSED.search(response.text), f"{route.method} {route.path}"
        assert response.status_code < 500, f"{route.method} {route.path} -> {response.status_code}"


async def test_a_viewer_api_key_cannot_write(api, db):
    viewer, editor = await api("viewer"), await api("editor")
    await arrange(db)
    writes = api_writes()
    assert writes, "the JSON API has write routes (POST /api/contacts, POST /api/lists, ...)"
    before = await snapshot(db)
    for route in writes:
        response = viewer.request(route.method, route.path, json={"email": "new@example.com", "name": "New"})
        assert response.status_code == 403, f"{route.method} {route.path} -> {response.status_code}"
        assert "Your role (viewer) cannot do this" in response.json()["detail"]
    assert await snapshot(db) == before
    for route in writes:  # the same calls with an editor key get past the guard
        response = editor.request(route.method, route.path, json={"email": "new@example.com", "name": "New"})
        assert response.status_code not in (401, 403), f"{route.method} {route.path} -> {response.status_code}"
    # A viewer key still reads.
    assert viewer.get("/api/lists").status_code == 200
