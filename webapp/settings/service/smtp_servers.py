"""Outgoing SMTP servers admins configure: validation, storage (password encrypted at rest with
secret_box, never shown again) and a connection test that reports the server's own answer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.validation import bool_field, is_valid_id, text_field
from webapp.settings.models import SmtpServer

TLS_MODES = {"none": "None (plain SMTP)", "starttls": "STARTTLS (usually port 587)", "tls": "TLS (usually port 465)"}
TEST_TIMEOUT = 10.0  # seconds for the whole connection test
MAX_PASSWORD_LENGTH = 1000
MAX_RATE = 10_000_000
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?|[0-9A-Fa-f:]+)$")
# (field, label, lowest, highest)
NUMBERS = [
    ("port", "Port", 1, 65535),
    ("rate_per_second", "Rate per second", 0, MAX_RATE),
    ("rate_per_hour", "Rate per hour", 0, MAX_RATE),
    ("rate_per_day", "Rate per day", 0, MAX_RATE),
    ("max_connections", "Max connections", 1, 50),
    ("priority", "Priority", 0, 1000),
]


def _int_field(raw: Any, label: str, lowest: int, highest: int) -> int:
    text = raw.strip() if isinstance(raw, str) else raw
    if not isinstance(text, (str, int)) or isinstance(text, bool) or not re.fullmatch(r"-?\d{1,12}", str(text)):
        raise ValueError(f"{label} must be a whole number.")
    value = int(text)
    if not lowest <= value <= highest:
        raise ValueError(f"{label} must be between {lowest:,} and {highest:,}.")
    return value


def validate(data: Mapping[str, Any], current: SmtpServer | None) -> dict[str, Any]:
    """Column values for a server from form or JSON input. A blank password keeps the saved one."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, label, limit in (("name", "Name", 200), ("host", "Host", 255), ("username", "Username", 320)):
        try:
            values[name] = text_field(data.get(name), label, limit)
        except ValueError as exc:
            errors[name] = str(exc)
    if "name" not in errors and not values["name"]:
        errors["name"] = "Give the server a name, e.g. “Postmark” or “Office relay”."
    if "host" not in errors and not HOST.match(values["host"]):
        errors["host"] = "Enter a host name or IP address, e.g. smtp.example.com."
    for name, label, lowest, highest in NUMBERS:
        try:
            values[name] = _int_field(data.get(name), label, lowest, highest)
        except ValueError as exc:
            errors[name] = str(exc)
    tls_mode = data.get("tls_mode")
    if isinstance(tls_mode, str) and tls_mode in TLS_MODES:
        values["tls_mode"] = tls_mode
    else:
        errors["tls_mode"] = "Choose a TLS mode: none, starttls or tls."
    try:
        values["is_active"] = bool_field(data.get("is_active", False), "Active")
    except ValueError as exc:
        errors["is_active"] = str(exc)
    password = data.get("password") or ""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH or "\x00" in password:
        errors["password"] = f"Enter the password as text of at most {MAX_PASSWORD_LENGTH} characters."
    elif password:
        values["password_encrypted"] = secret_box.encrypt(password)
    elif values.get("username") and not (current and current.password_encrypted):
        errors["password"] = "Enter the password for this username."
    if errors:
        raise ValidationFailed(errors)
    return values


async def list_servers(session: AsyncSession) -> list[SmtpServer]:
    return list(await session.scalars(select(SmtpServer).order_by(SmtpServer.priority, SmtpServer.id)))


async def get_server(session: AsyncSession, server_id: int) -> SmtpServer:
    server = await session.get(SmtpServer, server_id) if is_valid_id(server_id) else None
    if server is None:
        raise NotFound("That SMTP server does not exist (it may have been deleted).")
    return server


async def create_server(session: AsyncSession, data: Mapping[str, Any]) -> SmtpServer:
    server = SmtpServer(**validate(data, None))
    session.add(server)
    await session.flush()
    return server


async def update_server(session: AsyncSession, server_id: int, data: Mapping[str, Any]) -> SmtpServer:
    server = await get_server(session, server_id)
    for name, value in validate(data, server).items():
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
        lines = [f"Connected to {server.host}:{server.port}: {greeting.code} {greeting.message}".strip()]
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
        async with asyncio.timeout(TEST_TIMEOUT):
            return ConnectionResult(True, await _talk(server))
    except aiosmtplib.SMTPAuthenticationError as exc:
        return ConnectionResult(False, f"Authentication failed: {exc.code} {exc.message}")
    except aiosmtplib.SMTPResponseException as exc:
        return ConnectionResult(False, f"The server answered {exc.code} {exc.message}")
    except TimeoutError:
        return ConnectionResult(False, f"Timed out after {TEST_TIMEOUT:.0f} s talking to {server.host}:{server.port}.")
    except (aiosmtplib.SMTPException, OSError) as exc:
        return ConnectionResult(False, str(exc) or exc.__class__.__name__)


async def record_test(session: AsyncSession, server: SmtpServer, result: ConnectionResult) -> None:
    """A failed test is shown as the server's last error; a passing one clears it."""
    server.last_error = "" if result.ok else result.message
    server.last_error_at = None if result.ok else datetime.now(UTC)
    await session.flush()
