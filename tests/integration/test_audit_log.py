"""The audit log: every change a staff member or API key made that succeeded, and every sign-in and
refused try, with who, what, the answer and where from; refused changes and reads are not in it, nor
data programs send in volume. Admins read it on Settings → Audit log."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from tests.conftest import StaffClient, create_user, sign_in
from tests.integration.test_auth import NEW_PASSWORD
from tests.integration.test_password_reset import choose, visitor
from tests.support.campaigns import audience, ready_campaign
from tests.support.scoring import contact
from webapp.audit import service as audit
from webapp.audit.models import AuditEvent
from webapp.staff.service import password_reset


async def events(db, count: int, timeout: float = 10) -> list[AuditEvent]:
    """The log, oldest first, once it holds `count` events: each is written after its response."""
    deadline = time.monotonic() + timeout
    while True:
        db.expire_all()
        found = list(await db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_a_name_chosen_to_pass_for_a_key_or_another_person_does_not(db, staff):
    editor = await staff("editor")
    await db.execute(text("DELETE FROM audit_events"))
    await db.commit()
    for name in ("api:import-bot", "Admin", "Editor"):  # each change logged under the name it was made with
        assert editor.post("/account", data={"name": name}).status_code == 303
    actors = [event.actor for event in await events(db, 3)]
    assert actors == [
        "Editor <editor@example.com>",
        "api:import-bot <editor@example.com>",
        "Admin <editor@example.com>",
    ]


async def test_bulk_actions_refused_or_only_asking_first_are_not_logged_and_the_change_is(db, staff):
    await audience(db, 2)
    ids = [str(i) for i in await db.scalars(text("SELECT id FROM contacts ORDER BY id"))]
    editor = await staff("editor")
    await db.execute(text("DELETE FROM audit_events"))
    await db.commit()
    for form in (
        {"action": "delete", "ids": ids},  # asks first
        {"action": "delete", "scope": "matching", "matching": "q=person"},  # asks first, with the count
        {"action": "tag", "tag": "a,b", "ids": ids},  # refused with a message
        {"action": "tag", "tag": "", "ids": ids},
        {"action": "bogus", "ids": ids},
        {"action": "tag", "tag": "vip"},  # nobody selected
    ):
        assert editor.post("/contacts/bulk", data=form).status_code in (200, 303), form
    assert editor.post("/contacts/bulk", data={"action": "tag", "tag": "vip", "ids": ids}).status_code == 303
    assert [event.path for event in await events(db, 1, timeout=2)] == ["/contacts/bulk"]
    assert await db.scalar(text("SELECT count(*) FROM contacts WHERE 'vip' = ANY(tags)")) == 2


async def test_a_change_that_succeeds_is_recorded_and_one_refused_or_a_read_is_not(db, staff, api):
    email_list = await audience(db, 1)
    campaign_id = (await ready_campaign(db, [email_list.id])).id
    editor, viewer = await staff("editor"), await staff("viewer")
    await db.execute(text("DELETE FROM audit_events"))  # the sign-ins of staff()
    await db.commit()

    assert editor.get("/account").status_code == 200  # a read
    assert viewer.post(f"/campaigns/{campaign_id}/archive", data={"archive": "on"}).status_code == 403
    assert editor.post("/account", data={"name": "x" * 500}).status_code == 422  # refused: nothing changed
    for working_out, form in (  # posted as one types: previews and counts change nothing
        ("/contacts/validate-email", {"email": "ada@example.com"}),
        ("/lists/segments/count", {"g-0-operator": "AND"}),
        (f"/campaigns/{campaign_id}/content/preview", {"html_content": "<p>Hi</p>"}),
        ("/templates/preview", {"subject": "Hi", "html_content": "<p>Hi</p>"}),
        ("/warmup/fill", {"target": "5000"}),
    ):
        assert editor.post(working_out, data=form).status_code == 200, working_out
    assert editor.post(f"/campaigns/{campaign_id}/archive", data={"archive": "on"}).status_code == 303

    (event,) = await events(db, 1)
    assert (event.actor, event.role, event.user_id, event.api_key_id) == (
        "Editor <editor@example.com>",
        "editor",
        event.user_id,
        None,
    )
    assert event.user_id is not None
    assert (event.action, event.path, event.area) == (
        "POST /campaigns/{campaign_id}/archive",
        f"/campaigns/{campaign_id}/archive",
        "campaigns",
    )
    assert (event.status, event.ip) == (303, "127.0.0.1")

    key = await api("editor")
    assert key.put(f"/api/campaigns/{campaign_id}/archive", json={"archive": False}).status_code == 200
    await contact(db, "ada@example.com")
    await db.commit()
    sent_in = key.post("/api/events", json={"email": "ada@example.com", "name": "purchase"})
    assert sent_in.status_code == 201  # data programs send in volume: kept with the event, not logged here
    logged = await events(db, 2)
    await asyncio.sleep(0.5)  # were the event logged, it would be by now
    assert len(await events(db, 2)) == 2
    by_key = logged[1]
    assert (by_key.actor, by_key.action, by_key.area, by_key.user_id) == (
        "api:test editor",
        "PUT /api/campaigns/{campaign_id}/archive",
        "campaigns",
        None,
    )
    assert by_key.api_key_id is not None


async def test_sign_ins_and_refused_tries_are_recorded(db, live_server):
    await create_user(db, "editor")
    sign_in(live_server, "editor@example.com").close()
    with StaffClient(base_url=live_server) as browser:
        browser.get("/login")
        wrong = browser.post("/login", data={"email": "Nobody@Example.com ", "password": "wrong"})
        assert wrong.status_code == 400

    signed_in, tried = await events(db, 2)
    assert (signed_in.actor, signed_in.action, signed_in.area, signed_in.role) == (
        "Editor <editor@example.com>",
        "signed in",
        "sign-in",
        "editor",
    )
    assert (tried.actor, tried.action, tried.status, tried.user_id) == (
        "Nobody@Example.com",
        "sign-in refused",
        400,  # as answered
        None,
    )


async def test_a_refused_sign_in_to_an_account_is_the_accounts_with_the_answer_it_got(db, live_server):
    user = await create_user(db, "editor")
    user_id = user.id
    with StaffClient(base_url=live_server) as browser:
        browser.get("/login")
        answers = [
            browser.post("/login", data={"email": "EDITOR@example.com", "password": "wrong"}).status_code
            for _ in range(6)
        ]
    assert answers[0] == 400 and answers[-1] == 429
    refused = await events(db, 6)
    assert {(e.user_id, e.action) for e in refused} == {(user_id, "sign-in refused")}
    assert [e.status for e in refused] == answers, "wrong passwords told apart from lock-outs"


async def test_only_admins_read_the_log_filtered_by_who_and_area(db, staff):
    admin, editor = await staff("admin"), await staff("editor")
    editor.post("/account", data={"name": "Eddie"})
    editor.post("/account", data={"name": "Edna"})
    await events(db, 4)  # two sign-ins and the two renames
    editor_id = await db.scalar(text("SELECT id FROM users WHERE email = 'editor@example.com'"))

    page = admin.get("/settings/audit-log")
    assert page.status_code == 200
    assert "Signed in" in page.text and "POST /account" in page.text
    # One choice per account, as it is named now, whatever its events were recorded under.
    assert f'<option value="user:{editor_id}" >Edna &lt;editor@example.com&gt;</option>' in page.text
    assert "Editor &lt;editor@example.com&gt;</option>" not in page.text and 'option value="sign-in"' in page.text
    everything = admin.get("/settings/audit-log", params={"actor": f"user:{editor_id}"}).text
    assert "Signed in" in everything and everything.count("POST /account") == 2  # before and after a rename
    theirs = admin.get("/settings/audit-log", params={"actor": f"user:{editor_id}", "area": "account"}).text
    assert "POST /account" in theirs and "Signed in" not in theirs
    assert editor.get("/settings/audit-log").status_code == 403

    await db.execute(
        text("""INSERT INTO audit_events (occurred_at, actor, action, path, area, status)
                SELECT now() - n * interval '1 day', 'Admin', 'POST /lists/{list_id}/delete',
                       '/lists/' || n || '/delete', 'lists', 303
                FROM generate_series(1, 60) AS n""")
    )
    await db.commit()
    first = admin.get("/settings/audit-log", params={"area": "lists"}).text
    assert "/lists/50/delete" in first and "/lists/51/delete" not in first  # 50 a page, newest first
    older = re.search(r'href="(/settings/audit-log\?[^"]*cursor=[^"]*)" rel="next"|rel="next" href="([^"]*)"', first)
    assert older is not None
    second = admin.get((older[1] or older[2]).replace("&amp;", "&")).text
    assert "/lists/51/delete" in second and "/lists/60/delete" in second and "/lists/50/delete" not in second


async def test_events_are_kept_a_year(db):
    now = datetime.now(UTC)
    for days in (400, 366, 364):
        await db.execute(
            text("""INSERT INTO audit_events (occurred_at, actor, action, area, status)
                    VALUES (:t, 'Admin', 'signed in', 'sign-in', 303)"""),
            {"t": now - timedelta(days=days)},
        )
    assert await audit.prune(db, now) == 2
    assert await db.scalar(select(func.count()).select_from(AuditEvent)) == 1


async def test_a_password_reset_by_email_link_is_recorded(db, live_server):
    user = await create_user(db, "editor")
    user_id = user.id
    reset = choose(visitor(live_server), f"/login/reset/{password_reset.reset_token(user)}", NEW_PASSWORD)
    assert reset.status_code == 303
    (event,) = await events(db, 1)
    assert (event.actor, event.action, event.area, event.user_id) == (
        "Editor <editor@example.com>",
        "password reset by email link",
        "sign-in",
        user_id,
    )
