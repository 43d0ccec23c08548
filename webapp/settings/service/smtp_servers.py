"""Outgoing SMTP servers admins configure: validation, storage (password encrypted at rest with
secret_box, never shown again) and a connection test that reports the server's own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.addresses import RefusedAddress, checked_address, host_port, literal_refusal
from webapp.core.connect_errors import connect_failure
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.core.validation import is_valid_id
from webapp.settings import queries
from webapp.settings.models import SmtpServer
from webapp.settings.schemas import SmtpServerInput

TEST_TIMEOUT = 10.0  # seconds for the whole connection test
REFUSED = "an SMTP server may only be there when “Allow a private address” is ticked."


def _columns(data: Mapping[str, Any], current: SmtpServer | None) -> Values:
    """Column values for a server from the form. A blank password keeps the saved one, but a
    username needs a password."""
    values = load(SmtpServerInput, data)
    password = values.pop("password", "")
    if password:
        values["password_encrypted"] = secret_box.encrypt(password)
    elif values.get("username") and not (current and current.password_encrypted):
        raise ValidationFailed({"password": "Enter the password for this username."})
    return values


async def refuse_taken_name(
    session: AsyncSession, name: str, *, smtp_id: int | None = None, provider_id: int | None = None
) -> None:
    """ValidationFailed naming `name` when another SMTP server or provider has this name: routing
    rules, the transports page and the send log name a transport by its name alone."""
    found = await queries.transport_named(session, name, smtp_id=smtp_id, provider_id=provider_id)
    if found is not None:
        kind, found_id = found
        which = f"SMTP server #{found_id}" if kind == "smtp" else f"provider #{found_id}"
        raise ValidationFailed({"name": f"The {which} has this name already: choose another."})


async def list_servers(session: AsyncSession, *, active_only: bool = False) -> list[SmtpServer]:
    """In the order they are tried: lowest priority first."""
    return await queries.smtp_servers(session, active_only=active_only)


async def get_server(session: AsyncSession, server_id: int) -> SmtpServer:
    server = await session.get(SmtpServer, server_id) if is_valid_id(server_id) else None
    if server is None:
        raise NotFound("That SMTP server does not exist (it may have been deleted).")
    return server


def _check_address(columns: Values) -> None:
    """ValidationFailed on the host when it is an IP address not allowed (a name's addresses are
    checked when connecting: they can change)."""
    why = literal_refusal(columns["host"], allow_private=bool(columns.get("allow_private")), refused=REFUSED)
    if why:
        raise ValidationFailed({"host": why})


async def create_server(session: AsyncSession, data: Mapping[str, Any]) -> SmtpServer:
    columns = _columns(data, None)
    _check_address(columns)
    await refuse_taken_name(session, columns["name"])
    server = SmtpServer(**columns)
    session.add(server)
    await session.flush()
    return server


async def update_server(session: AsyncSession, server_id: int, data: Mapping[str, Any]) -> SmtpServer:
    server = await get_server(session, server_id)
    columns = _columns(data, server)
    columns.setdefault("allow_private", False)  # a form sends the box only when it is ticked
    _check_address(columns)
    await refuse_taken_name(session, columns["name"], smtp_id=server.id)
    for name, value in columns.items():
        setattr(server, name, value)
    await session.flush()
    return server


async def delete_server(session: AsyncSession, server_id: int) -> SmtpServer:
    server = await get_server(session, server_id)
    await session.delete(server)
    await session.flush()
    return server


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


async def _talk(server: SmtpServer) -> str:
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        timeout=TEST_TIMEOUT,
        use_tls=server.tls_mode == "tls",
        start_tls=server.tls_mode == "starttls",
    )
    greeting = await client.connect()
    try:
        lines = [f"Connected to {host_port(server.host, server.port)}: {greeting.code} {greeting.message}".strip()]
        if server.tls_mode == "starttls":
            lines.append("STARTTLS succeeded")
        if server.username:
            reply = await client.login(server.username, secret_box.decrypt(server.password_encrypted))
            lines.append(f"Signed in as {server.username}: {reply.code} {reply.message}".strip())
        else:
            lines.append("no username set, so no sign-in was tried")
        await client.quit()
    finally:
        client.close()
    return " · ".join(lines)


async def test_connection(server: SmtpServer) -> ConnectionResult:
    """Connect (and sign in when a username is set), within TEST_TIMEOUT; never raises for network,
    TLS or SMTP trouble: the message then says what went wrong, in the server's or the OS's words."""
    try:
        await checked_address(server.host, server.port, allow_private=server.allow_private, refused=REFUSED)
        async with asyncio.timeout(TEST_TIMEOUT):
            return ConnectionResult(True, await _talk(server))
    except RefusedAddress as exc:
        return ConnectionResult(False, str(exc))
    except aiosmtplib.SMTPAuthenticationError as exc:
        return ConnectionResult(False, f"Authentication failed: {exc.code} {exc.message}")
    except aiosmtplib.SMTPResponseException as exc:
        return ConnectionResult(False, f"The server answered {exc.code} {exc.message}")
    except TimeoutError:
        where = host_port(server.host, server.port)
        return ConnectionResult(False, f"Timed out after {TEST_TIMEOUT:.0f} s talking to {where}.")
    except (aiosmtplib.SMTPException, OSError) as exc:
        said = connect_failure(exc, host_port(server.host, server.port))
        return ConnectionResult(False, said or str(exc) or exc.__class__.__name__)


async def record_test(session: AsyncSession, server: SmtpServer, result: ConnectionResult) -> None:
    """A failed test is shown as the server's last error; a passing one clears it."""
    server.last_error = "" if result.ok else result.message
    server.last_error_at = None if result.ok else datetime.now(UTC)
    await session.flush()
