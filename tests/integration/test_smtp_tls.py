"""Sending over TLS, from the start or after STARTTLS, on the event loop the worker runs (uvloop):
the session hands its TLS transport to our reply reader, and the certificate is checked."""

from __future__ import annotations

import ssl

import pytest
import uvloop
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis

from tests.support.certificates import self_signed
from tests.support.smtp import SmtpSink, free_port
from webapp.core.config import get_settings
from webapp.delivery.mailer import Handover
from webapp.delivery.smtp_pool import ServerPool
from webapp.delivery.smtp_session import ServerDown, SmtpTarget, open_session

MESSAGE = b"From: news@example.com\r\nTo: ada@example.org\r\nSubject: Over TLS\r\n\r\nhello\r\n"


@pytest.fixture
def certificate(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A server context for "localhost", whose certificate this process trusts (and no other)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = tmp_path / "cert.pem"
    cert.write_bytes(self_signed(key, "localhost", 2, ["localhost"]).public_bytes(serialization.Encoding.PEM))
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key_file)
    return context


def send_twice(port: int, tls: str) -> list[None]:
    """Two messages on one pooled session, on a uvloop loop as in the worker."""

    async def send() -> list[None]:
        target = SmtpTarget(id=1, name="TLS relay", host="localhost", port=port, tls_mode=tls, max_connections=1)
        pool = ServerPool(target, Redis.from_url(get_settings().redis.url), lambda: True)
        try:
            return [
                await pool.send("news@example.com", "ada@example.org", MESSAGE, Handover(lambda: True)) for _ in "ab"
            ]
        finally:
            await pool.close()

    return uvloop.run(send())


@pytest.mark.parametrize("tls", ["tls", "starttls"])
def test_messages_go_over_tls_on_the_workers_event_loop(certificate, tls):
    with SmtpSink(tls=tls, certificate=certificate) as sink:
        assert send_twice(sink.port, tls) == [None, None]
    assert [m["Subject"] for m in sink.messages] == ["Over TLS", "Over TLS"]


def test_a_certificate_nobody_vouches_for_is_refused(certificate, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")
    with SmtpSink(tls="tls", certificate=certificate) as sink, pytest.raises(ServerDown, match="certificate"):
        send_twice(sink.port, "tls")
    assert sink.messages == []


async def test_a_server_that_cannot_be_reached_is_said_so_in_plain_words():
    closed = free_port()
    with pytest.raises(ServerDown) as down:
        await open_session(SmtpTarget(id=None, name="Closed", host="127.0.0.1", port=closed))
    assert str(down.value) == f"Cannot connect to 127.0.0.1:{closed}: Connection refused."  # not "[Errno 111] ..."
