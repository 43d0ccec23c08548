"""Settings → Bounce mailbox against the real web server: admins save it (the password encrypted at
rest, never shown back), mistakes are shown next to their fields, "Test connection" reports on a
real Dovecot without saving, and nobody else may see or change any of it."""

from __future__ import annotations

import httpx

from tests.integration.bounces.test_connection_check import form
from tests.support.dovecot import PASSWORD
from webapp.bounces.service import mailbox
from webapp.core import secret_box
from webapp.settings.models import AppSetting

PAGE = "/settings/bounce-mailbox"


async def test_an_admin_saves_the_mailbox_and_the_password_is_encrypted_at_rest(staff, db, dovecot):
    client = await staff("admin")
    response = client.post(PAGE, data=form(dovecot, delete_processed="yes"))
    assert response.status_code == 303 and response.headers["location"] == PAGE

    saved = await mailbox.load(db)
    assert (saved.bounce_address, saved.host, saved.port, saved.username) == (
        "bounces@bounce.example.com",
        "127.0.0.1",
        dovecot.imap_port,
        "bounces",
    )
    assert saved.password == PASSWORD and saved.delete_processed and saved.allow_private and saved.polled
    stored = await db.get(AppSetting, "bounce_mailbox")
    assert PASSWORD not in str(stored.value)
    assert secret_box.decrypt(stored.value["password_encrypted"].encode()) == PASSWORD

    page = client.get(PAGE).text
    assert "Bounce mailbox settings saved." in page and 'value="bounces@bounce.example.com"' in page
    assert "(leave empty to keep the saved one)" in page and PASSWORD not in page


async def test_mistakes_are_shown_next_to_their_fields_and_nothing_is_saved(staff, db, dovecot):
    client = await staff("admin")
    response = client.post(
        PAGE, data=form(dovecot, bounce_address="not an address", port="70000", host="bad host!", username="")
    )
    assert response.status_code == 422
    page = response.text
    for name in ("bounce_address", "port", "host"):
        assert f'id="{name}-error"' in page, name
    assert 'value="bad host!"' in page and PASSWORD not in page
    assert (await mailbox.load(db)).host == ""


async def test_the_test_button_reports_success_and_a_bad_password_without_saving(staff, db, dovecot):
    client = await staff("admin")
    dovecot.deliver(b"Subject: waiting\r\n\r\nbody\r\n")
    try:
        ok = client.post(f"{PAGE}/test", data=form(dovecot))
        assert ok.status_code == 200
        assert "Connected and signed in: 1 message waits." in ok.text

        refused = client.post(f"{PAGE}/test", data=form(dovecot, protocol="pop3", password="wrong"))
        assert refused.status_code == 422, refused.text[refused.text.find("<main") :][:3000]
        found = refused.text.find("bounce-mailbox-test")
        assert "Connection failed: Sign-in failed" in refused.text and 'role="alert"' in refused.text, refused.text[
            found - 50 : found + 400
        ]
        assert 'value="127.0.0.1"' in refused.text  # the form is kept as typed

        unticked = {name: value for name, value in form(dovecot).items() if name != "allow_private"}
        private = client.post(f"{PAGE}/test", data=unticked)
        assert private.status_code == 422 and "127.0.0.1 is a loopback address" in private.text
        assert (await mailbox.load(db)).host == ""  # testing saves nothing
    finally:
        dovecot.empty()


async def test_editors_and_viewers_can_neither_see_nor_change_it(staff, db, dovecot):
    for role in ("editor", "viewer"):
        client = await staff(role)
        assert f'href="{PAGE}"' not in client.get("/").text
        for method, path in (("GET", PAGE), ("POST", PAGE), ("POST", f"{PAGE}/test")):
            assert client.request(method, path, data=form(dovecot)).status_code == 403, (role, method, path)
    assert (await mailbox.load(db)).host == ""


async def test_a_form_from_another_site_is_refused(staff, db, dovecot):
    admin = await staff("admin")
    forged = httpx.Client(base_url=admin.base_url, cookies=admin.cookies, timeout=30)
    response = forged.post(PAGE, data=form(dovecot))
    assert response.status_code == 403 and "CSRF token verification failed" in response.text
    assert (await mailbox.load(db)).host == ""


async def test_the_page_says_what_the_last_poll_did(staff, db, clean_mailbox):
    from webapp.bounces.service import polling

    client = await staff("admin")
    assert "Last read" not in client.get(PAGE).text
    client.post(PAGE, data=form(clean_mailbox))
    clean_mailbox.deliver(b"Subject: hello\r\n\r\nnot a report\r\n")
    await polling.poll()
    assert "messages read: 1; new bounces and complaints: 0; left in the mailbox: 1." in client.get(PAGE).text

    client.post(PAGE, data=form(clean_mailbox, password="wrong"))
    await polling.poll()
    assert "<strong>failed</strong>: Sign-in failed" in client.get(PAGE).text
