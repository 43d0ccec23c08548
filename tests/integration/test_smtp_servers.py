"""SMTP server settings against the real web server: CRUD, validation, the password encrypted at
rest, and "Test connection" against a real aiosmtpd server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from webapp.core import secret_box
from webapp.delivery.smtp_config import target_of
from webapp.delivery.smtp_session import ServerDown, open_session
from webapp.providers.models import Provider
from webapp.settings.models import SmtpServer

USERNAME, PASSWORD = "mailer", "s3cret pass wörd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture
def smtp_port() -> Iterator[int]:
    """A real SMTP server in a thread that accepts USERNAME/PASSWORD over plain SMTP."""
    controller = Controller(
        Sink(),
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="test-smtp.local",
        authenticator=authenticate,
        auth_required=False,
        auth_require_tls=False,
    )
    controller.start()
    yield controller.port
    controller.stop()


def server_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Relay",
        "host": "127.0.0.1",
        "port": "587",
        "tls_mode": "none",
        "username": USERNAME,
        "password": PASSWORD,
        "rate_per_second": "20",
        "rate_per_hour": "0",
        "rate_per_day": "50000",
        "max_connections": "4",
        "priority": "1",
        "is_active": "true",
        "allow_private": "yes",  # the test's server is on this machine
    }
    return {k: v for k, v in {**form, **changes}.items() if v is not None}


async def only_server(db) -> SmtpServer:
    db.expire_all()
    return (await db.scalars(select(SmtpServer))).one()


async def test_admin_adds_a_server_and_its_password_is_encrypted_at_rest(staff, db):
    client = await staff("admin")
    response = client.post("/settings/smtp", data=server_form())
    assert response.status_code == 303 and response.headers["location"] == "/settings/smtp"

    server = await only_server(db)
    assert (server.name, server.host, server.port, server.tls_mode, server.username) == (
        "Relay",
        "127.0.0.1",
        587,
        "none",
        USERNAME,
    )
    assert (server.rate_per_second, server.rate_per_hour, server.rate_per_day) == (20, 0, 50000)
    assert (server.max_connections, server.priority, server.is_active) == (4, 1, True)
    assert PASSWORD.encode() not in server.password_encrypted
    assert server.password_encrypted != PASSWORD.encode("utf-8")
    assert secret_box.decrypt(server.password_encrypted) == PASSWORD

    page = client.get("/settings/smtp").text
    assert "SMTP server &#39;Relay&#39; added." in page
    assert f'<tr id="smtp-{server.id}">' in page and "127.0.0.1:587" in page and "20/s, 50,000/day" in page
    form = client.get(f"/settings/smtp/{server.id}/edit").text
    assert 'value="Relay"' in form and "(leave empty to keep the saved one)" in form
    assert PASSWORD not in page + form


async def test_blank_password_on_edit_keeps_the_saved_one(staff, db):
    client = await staff("admin")
    client.post("/settings/smtp", data=server_form())
    server = await only_server(db)
    saved = server.password_encrypted

    response = client.post(
        f"/settings/smtp/{server.id}/edit",
        data=server_form(name="Relay 2", password=None, is_active=None, tls_mode="starttls"),
    )
    assert response.status_code == 303
    server = await only_server(db)
    assert (server.name, server.tls_mode, server.is_active) == ("Relay 2", "starttls", False)
    assert server.password_encrypted == saved

    client.post(f"/settings/smtp/{server.id}/edit", data=server_form(password="a new password"))
    assert secret_box.decrypt((await only_server(db)).password_encrypted) == "a new password"


async def test_bad_input_is_reported_next_to_each_field_and_kept(staff, db):
    client = await staff("admin")
    response = client.post(
        "/settings/smtp",
        data=server_form(
            name="  ",
            host="bad host!",
            port="70000",
            tls_mode="ssl",
            rate_per_second="-1",
            rate_per_hour="lots",
            max_connections="51",
            priority="99999999999999999999999",
            password="typed secret",
        ),
    )
    assert response.status_code == 422
    page = response.text
    for message in (
        "Give the server a name",
        "Enter a host name or IP address",
        "Port must be between 1 and 65,535.",
        "Choose a TLS mode: none, starttls or tls.",
        "Rate per second must be between 0 and 10,000,000.",
        "Rate per hour must be a whole number.",
        "Max connections must be between 1 and 50.",
        "Priority must be between 0 and 1,000.",  # a whole number, if a long one
    ):
        assert message in page
    assert page.count('class="field invalid"') == 8
    assert 'value="bad host!"' in page and 'value="70000"' in page and 'value="lots"' in page
    assert "typed secret" not in page  # never echoed
    assert (await db.scalars(select(SmtpServer))).first() is None

    missing = client.post("/settings/smtp", data=server_form(password=""))
    assert missing.status_code == 422 and "Enter the password for this username." in missing.text


async def test_delete_after_confirmation_and_unknown_ids_are_404(staff, db):
    client = await staff("admin")
    client.post("/settings/smtp", data=server_form())
    server = await only_server(db)
    assert "Delete SMTP server" in client.get(f"/settings/smtp/{server.id}/delete").text
    response = client.post(f"/settings/smtp/{server.id}/delete")
    assert response.status_code == 303
    assert (await db.scalars(select(SmtpServer))).first() is None
    assert "SMTP server &#39;Relay&#39; deleted." in client.get("/settings/smtp").text
    for path in (f"/settings/smtp/{server.id}/edit", "/settings/smtp/99999999999999999999999/edit"):
        assert client.get(path).status_code == 404
    assert client.post(f"/settings/smtp/{server.id}/test").status_code == 404


async def test_connection_test_signs_in_and_shows_the_servers_answer(staff, db, smtp_port):
    client = await staff("admin")
    client.post("/settings/smtp", data=server_form(port=str(smtp_port)))
    server = await only_server(db)

    response = client.post(f"/settings/smtp/{server.id}/test", headers={"hx-request": "true"})
    assert response.status_code == 200
    assert response.text.startswith('<div id="smtp-servers">')
    assert "the connection works." in response.text
    assert f"Connected to 127.0.0.1:{smtp_port}: 220 test-smtp.local" in response.text
    assert f"Signed in as {USERNAME}: 235 2.7.0 Authentication successful" in response.text

    plain = client.post(f"/settings/smtp/{server.id}/test")  # without JavaScript: a flash on the list
    assert plain.status_code == 303
    assert "Relay: Connected to 127.0.0.1" in client.get("/settings/smtp").text


async def test_connection_test_reports_a_wrong_password(staff, db, smtp_port):
    client = await staff("admin")
    client.post("/settings/smtp", data=server_form(port=str(smtp_port), password="wrong password"))
    server = await only_server(db)
    response = client.post(f"/settings/smtp/{server.id}/test", headers={"hx-request": "true"})
    assert response.status_code == 200
    assert "the connection failed." in response.text
    assert "Authentication failed: 535 5.7.8 Authentication credentials invalid" in response.text


async def test_connection_test_reports_a_closed_port_clearly_and_shows_it_as_last_error(staff, db, smtp_port):
    client = await staff("admin")
    closed = free_port()
    client.post("/settings/smtp", data=server_form(port=str(closed)))
    server = await only_server(db)

    started = time.monotonic()
    response = client.post(f"/settings/smtp/{server.id}/test", headers={"hx-request": "true"})
    assert time.monotonic() - started < 10
    assert response.status_code == 200 and "the connection failed." in response.text
    said = f"Cannot connect to 127.0.0.1:{closed}: Connection refused."  # not the library's "[Errno 111] ..."
    assert said in response.text

    server = await only_server(db)
    assert server.last_error == said and server.last_error_at is not None
    listed = client.get("/settings/smtp").text
    assert f'id="smtp-{server.id}-error">{said}' in listed

    # Fixing the port and testing again clears the error.
    client.post(f"/settings/smtp/{server.id}/edit", data=server_form(port=str(smtp_port), password=None))
    assert (
        "the connection works." in client.post(f"/settings/smtp/{server.id}/test", headers={"hx-request": "true"}).text
    )
    assert f'id="smtp-{server.id}-error"' not in client.get("/settings/smtp").text


@pytest.mark.parametrize("role", ["editor", "viewer"])
async def test_only_admins_reach_smtp_settings(staff, db, role):
    admin = await staff("admin")
    admin.post("/settings/smtp", data=server_form())
    server_id = (await only_server(db)).id
    admin.close()
    client = await staff(role)
    for path in ("/settings/smtp", "/settings/smtp/new", f"/settings/smtp/{server_id}/edit"):
        assert client.get(path).status_code == 403, path
    for path in (
        "/settings/smtp",
        f"/settings/smtp/{server_id}/edit",
        f"/settings/smtp/{server_id}/test",
        f"/settings/smtp/{server_id}/delete",
    ):
        assert client.post(path, data=server_form(name="Hijack")).status_code == 403, path
    assert (await only_server(db)).name == "Relay"
    assert 'href="/settings/smtp"' not in client.get("/").text


async def test_connection_test_gives_up_on_a_silent_server_within_ten_seconds(staff, db):
    client = await staff("admin")
    with socket.socket() as silent:  # accepts connections (the kernel does) but never says 220
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client.post("/settings/smtp", data=server_form(port=str(silent.getsockname()[1])))
        server = await only_server(db)
        started = time.monotonic()
        response = client.post(f"/settings/smtp/{server.id}/test", headers={"hx-request": "true"})
        elapsed = time.monotonic() - started
    assert response.status_code == 200 and "the connection failed." in response.text
    assert "Timed out" in response.text
    assert elapsed < 11.5


async def test_an_ipv6_address_in_brackets_is_kept_as_the_address_connecting_takes(staff, db):
    client = await staff("admin")
    assert client.post("/settings/smtp", data=server_form(host="[::1]")).status_code == 303
    assert (await only_server(db)).host == "::1"  # "[::1]" is no host a connection can look up
    assert "[::1]:587</td>" in client.get("/settings/smtp").text  # shown as people write it, not ::1:587


async def test_a_name_another_server_or_a_provider_has_is_refused_next_to_the_field(staff, db):
    client = await staff("admin")
    client.post("/settings/smtp", data=server_form())
    first = await only_server(db)
    db.add(Provider(name="Postmark", kind="postmark"))
    await db.commit()

    again = client.post("/settings/smtp", data=server_form(name="relay", host="10.1.2.3"))
    as_the_provider = client.post(f"/settings/smtp/{first.id}/edit", data=server_form(name="POSTMARK"))
    itself = client.post(f"/settings/smtp/{first.id}/edit", data=server_form(name="RELAY", password=None))

    assert again.status_code == 422
    assert f"The SMTP server #{first.id} has this name already: choose another." in again.text
    assert 'value="relay"' in again.text and 'value="10.1.2.3"' in again.text
    assert as_the_provider.status_code == 422 and "The provider #" in as_the_provider.text
    assert itself.status_code == 303, "a server keeps its own name in another case"
    assert (await only_server(db)).name == "RELAY"


async def test_a_private_address_needs_the_admins_choice_when_saved_and_when_connecting(staff, db, smtp_port):
    client = await staff("admin")
    for host, reason in (
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("10.0.0.5", "10.0.0.5 is a private address"),
        ("2130706433", "2130706433 resolves to 127.0.0.1, a loopback address"),
        ("[::1]", "::1 is a loopback address"),
    ):
        refused = client.post("/settings/smtp", data=server_form(host=host, allow_private=None))
        assert refused.status_code == 422, host
        assert reason in refused.text and "“Allow a private address”" in refused.text, host
        assert f'value="{host}"' in refused.text  # what was typed is kept
    assert (await db.scalars(select(SmtpServer))).first() is None

    client.post("/settings/smtp", data=server_form(port=str(smtp_port)))  # allowed: saved, and it connects
    server = await only_server(db)
    assert server.allow_private
    # A name that resolves to a private address is checked when connecting (it can change): the test says why
    server.host, server.allow_private = "localhost", False
    await db.commit()
    tested = client.post(f"/settings/smtp/{server.id}/test", follow_redirects=True)
    assert "localhost resolves to 127.0.0.1, a loopback address" in tested.text
    with pytest.raises(ServerDown, match="a loopback address"):
        await open_session(target_of(await only_server(db)))
