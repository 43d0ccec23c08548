"""One SMTP session with a server: which server (SmtpTarget), opening a session (connect, TLS,
sign-in), whether a server answers at all, and addresses as SMTP takes them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import aiosmtplib

CONNECT_TIMEOUT = 10.0
SERVER_COOLDOWN_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpTarget:
    id: int | None
    name: str
    host: str
    port: int
    tls_mode: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    rate_per_second: int = 0  # 0 = unlimited
    rate_per_hour: int = 0
    rate_per_day: int = 0
    max_connections: int = 5
    priority: int = 0  # lower is used first; the next priority only when these cannot take mail

    @property
    def key(self) -> str:
        """Names the server in Redis, for the limits every worker shares."""
        return str(self.id) if self.id is not None else f"{self.host}:{self.port}"


class ServerDown(Exception):
    """This server cannot be used right now (refused, timed out, authentication failed)."""

    def __init__(self, message: str, seconds: float = SERVER_COOLDOWN_SECONDS) -> None:
        super().__init__(message)
        self.seconds = seconds


class QuotaSpent(ServerDown):
    """The server's hourly or daily budget is spent until the window ends."""


def reply_text(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


def smtp_address(address: str) -> tuple[str, bool]:
    """The address as sent in MAIL FROM/RCPT TO, and whether it needs SMTPUTF8: an internationalised
    domain goes as punycode; only a non-ASCII local part needs the extension."""
    local, _, domain = address.rpartition("@")
    with contextlib.suppress(UnicodeError):  # not IDNA-encodable: sent as it is
        domain = domain.encode("idna").decode("ascii")
    address = f"{local}@{domain}"
    return address, not address.isascii()


async def open_session(t: SmtpTarget) -> aiosmtplib.SMTP:
    """A connected (and signed-in) SMTP session with the server."""
    client = aiosmtplib.SMTP(
        hostname=t.host,
        port=t.port,
        timeout=CONNECT_TIMEOUT,
        use_tls=t.tls_mode == "tls",
        start_tls=t.tls_mode == "starttls",
    )
    connected = False
    try:
        await client.connect()
        if t.username:
            await client.login(t.username, t.password)
        connected = True
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise ServerDown(f"authentication failed: {reply_text(exc)}") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise ServerDown(f"cannot connect to {t.host}:{t.port}: {exc}") from exc
    finally:
        if not connected:
            client.close()
    return client


async def answers(target: SmtpTarget) -> bool:
    """Whether the server takes a session now (connects, greets, signs in)."""
    try:
        client = await open_session(target)
    except ServerDown:
        return False
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await client.quit()
    client.close()
    return True
