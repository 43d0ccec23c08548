"""Settings → Bounce mailbox's "Test connection" against a real IMAP and POP3 server (Dovecot):
it signs in and counts what waits, or says why it could not, and refuses private hosts unless
allowed."""

from __future__ import annotations

import pytest

from tests.support.dovecot import PASSWORD, USER
from webapp.bounces.service import checks, mailbox
from webapp.core.errors import ValidationFailed


def form(dovecot, protocol: str = "imap", **values: str) -> dict[str, str]:
    port = dovecot.imap_port if protocol == "imap" else dovecot.pop3_port
    return {
        "bounce_address": "bounces@bounce.example.com",
        "protocol": protocol,
        "host": "127.0.0.1",
        "port": str(port),
        "tls_mode": "none",
        "username": USER,
        "password": PASSWORD,
        "folder": "INBOX",
        "poll_minutes": "5",
        "allow_private": "on",
    } | values


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_the_check_signs_in_and_counts_the_waiting_messages(db, dovecot, protocol):
    before = await checks.test_connection(db, form(dovecot, protocol))
    dovecot.deliver(b"Subject: one\r\n\r\nbody\r\n", b"Subject: two\r\n\r\nbody\r\n")
    assert await checks.test_connection(db, form(dovecot, protocol)) == before + 2


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_a_wrong_password_is_reported_as_a_failed_sign_in(db, dovecot, protocol):
    with pytest.raises(checks.ConnectionFailed, match="Sign-in failed"):
        await checks.test_connection(db, form(dovecot, protocol, password="wrong"))


async def test_a_blank_password_uses_the_saved_one(db, dovecot):
    await mailbox.update(db, form(dovecot))
    assert await checks.test_connection(db, form(dovecot, password="")) >= 0
    assert (await mailbox.load(db)).password == PASSWORD


async def test_a_private_host_is_refused_unless_allowed(db, dovecot):
    with pytest.raises(checks.ConnectionFailed, match=r"127\.0\.0\.1 is a loopback address"):
        await checks.test_connection(db, form(dovecot, allow_private=""))


async def test_a_closed_port_and_a_tls_mismatch_are_reported(db, dovecot):
    from tests.support.smtp import free_port

    with pytest.raises(checks.ConnectionFailed, match=r"Cannot connect to 127\.0\.0\.1"):
        await checks.test_connection(db, form(dovecot, port=str(free_port())))
    with pytest.raises(checks.ConnectionFailed, match=r"TLS with 127\.0\.0\.1"):
        await checks.test_connection(db, form(dovecot, tls_mode="tls"))


async def test_a_form_with_mistakes_is_refused_before_connecting(db, dovecot):
    with pytest.raises(ValidationFailed) as failed:
        await checks.test_connection(db, form(dovecot, port="99999", username=""))
    assert set(failed.value.errors) >= {"port"}


async def test_a_server_that_never_answers_is_reported_as_a_timeout(db, dovecot):
    import socket

    with socket.socket() as silent:  # accepts the connection (the kernel does), never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(checks.ConnectionFailed, match="did not answer within 15 seconds"):
            await checks.test_connection(db, form(dovecot, port=str(port)))


@pytest.mark.parametrize("tls_mode", ["tls", "starttls"])
async def test_a_certificate_nobody_trusts_is_reported(db, dovecot, tls_mode):
    port = dovecot.imaps_port if tls_mode == "tls" else dovecot.imap_port
    with pytest.raises(checks.ConnectionFailed, match=r"The TLS certificate of 127\.0\.0\.1:\d+ is not valid"):
        await checks.test_connection(db, form(dovecot, tls_mode=tls_mode, port=str(port)))


@pytest.mark.parametrize("host", ["169.254.169.254", "127.0.0.1", "0x7f000001", "[::1]", "10.1.2.3"])
async def test_a_private_address_is_not_saved_unless_allowed(db, dovecot, host):
    with pytest.raises(ValidationFailed) as refused:
        await mailbox.update(db, form(dovecot, host=host, allow_private=""))
    assert set(refused.value.errors) == {"host"}
    assert "may only be on a private network when “Allow a private address” is ticked" in refused.value.errors["host"]
    assert (await mailbox.load(db)).host == ""  # nothing saved
    await mailbox.update(db, form(dovecot, host=host))  # allowed
    await mailbox.update(db, form(dovecot, host="imap.example.com", allow_private=""))  # a name: checked on connecting
