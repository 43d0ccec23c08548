"""A forgotten staff password: "Forgot your password?" on the sign-in page emails a link (through a
real worker and SMTP server) that sets a new password once, within the hour; asking says the same
for every address, and is limited per account and per IP."""

from __future__ import annotations

import re
import time

import httpx
from itsdangerous import timed

from tests.conftest import TEST_PASSWORD, StaffClient, create_user, sign_in
from tests.integration.test_auth import NEW_PASSWORD, signed_in
from tests.support.campaigns import smtp_server
from tests.support.smtp import SmtpSink
from tests.support.subscriptions import text_part, wait_for_messages
from webapp.settings.service import organisation as org_settings
from webapp.staff.service import password_reset
from webapp.staff.service.passwords import verify_password

ASKED = "has an active staff account, an email with a link to choose a new password is on its way"
RESET_LINK = re.compile(r"https?://[^/\s]+(/login/reset/\S+)")


def visitor(live_server: str) -> StaffClient:
    client = StaffClient(base_url=live_server, follow_redirects=False, timeout=30)
    client.get("/login/forgot")  # the CSRF cookie, as a browser gets it with the form
    return client


def ask(client: StaffClient, email: str) -> httpx.Response:
    return client.post("/login/forgot", data={"email": email})


def choose(client: StaffClient, path: str, new: str, again: str | None = None) -> httpx.Response:
    return client.post(path, data={"password": new, "password_confirm": new if again is None else again})


async def test_a_forgotten_password_is_reset_by_the_emailed_link_once(db, live_server, worker):
    user = await create_user(db, "editor")
    await org_settings.save(db, org_settings.OrgSettings(default_from_email="team@northwind.example"))
    elsewhere = sign_in(live_server, user.email)
    client = visitor(live_server)
    assert 'href="/login/forgot"' in client.get("/login").text
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        asked = ask(client, user.email.upper())
        assert asked.status_code == 200 and ASKED in asked.text
        worker("staff-worker", MAILROOM_BASE_URL=live_server)
        [message] = await wait_for_messages(sink, 1)
    assert message["To"] == user.email and message["Subject"] == "Choose a new Mailroom password"
    assert message["From"] == "team@northwind.example" and message["Auto-Submitted"] == "auto-generated"
    link = RESET_LINK.search(text_part(message))
    assert link is not None, text_part(message)
    path = link.group(1)

    assert client.get(path).status_code == 200
    for new, again, field in (("short", None, "password"), (NEW_PASSWORD, NEW_PASSWORD + "!", "password_confirm")):
        refused = choose(client, path, new, again)
        assert refused.status_code == 422 and f'id="{field}-error"' in refused.text, field
        assert new not in refused.text
    done = choose(client, path, NEW_PASSWORD)
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    assert "Your password is changed" in client.get("/login").text
    assert not signed_in(elsewhere)  # every session of the old password ends
    sign_in(live_server, user.email, NEW_PASSWORD)

    used = client.get(path)
    assert used.status_code == 404 and "expired or was used already" in used.text
    assert choose(client, path, "yet another password").status_code == 404
    await db.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)


async def test_asking_says_the_same_for_every_address_and_mails_only_active_accounts(db, live_server, worker):
    active, inactive = await create_user(db, "viewer"), await create_user(db, "editor")
    inactive.is_active = False
    client = visitor(live_server)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        worker("staff-worker", MAILROOM_BASE_URL=live_server)
        for address in ("nobody@example.com", inactive.email, active.email, active.email):
            answer = ask(client, address)
            assert answer.status_code == 200 and ASKED in answer.text, address
        await wait_for_messages(sink, 1)
        time.sleep(2)  # time for a second email, had one been sent
        assert [m["To"] for m in sink.messages] == [active.email]  # one per account every two minutes

    refused = ask(client, "not an address")
    assert refused.status_code == 422 and 'id="email-error"' in refused.text and "not an address" in refused.text


async def test_asking_is_limited_per_ip(db, live_server):
    client = visitor(live_server)
    for _ in range(password_reset.IP_LIMIT):
        assert ask(client, "someone@example.com").status_code == 200
    limited = ask(client, "someone@example.com")
    assert limited.status_code == 429 and "Try again in an hour" in limited.text
    assert int(limited.headers["retry-after"]) > 0


async def test_a_link_expires_after_an_hour_and_with_a_deactivated_account(db, live_server, monkeypatch):
    user = await create_user(db, "editor")
    client = visitor(live_server)
    an_hour_ago = time.time() - password_reset.RESET_LINK_SECONDS - 60
    with monkeypatch.context() as past:
        past.setattr(timed.time, "time", lambda: an_hour_ago)
        expired = password_reset.reset_token(user)
    assert client.get(f"/login/reset/{expired}").status_code == 404
    assert client.get("/login/reset/forged").status_code == 404

    fresh = password_reset.reset_token(user)
    assert client.get(f"/login/reset/{fresh}").status_code == 200
    user.is_active = False
    await db.commit()
    gone = choose(client, f"/login/reset/{fresh}", NEW_PASSWORD)
    assert gone.status_code == 404 and "Ask for a new one" in gone.text
    await db.refresh(user)
    assert verify_password(user.password_hash, TEST_PASSWORD)


async def test_a_reset_ends_a_sign_in_lockout(db, live_server):
    user = await create_user(db, "editor")
    client = visitor(live_server)
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "a wrong guess"})
    assert client.post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 429
    assert choose(client, f"/login/reset/{password_reset.reset_token(user)}", NEW_PASSWORD).status_code == 303
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 303
