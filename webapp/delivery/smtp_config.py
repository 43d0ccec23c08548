"""The worker's Mailer, built from the SMTP servers admins configured (or the dev capture server
when there are none), and rebuilt when that configuration changes."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from webapp.core import secret_box
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.mailer import Mailer, SmtpTarget
from webapp.settings.models import SmtpServer

RECHECK_SECONDS = 10.0

_state: dict[str, object] = {"mailer": None, "version": None, "checked": 0.0}


def dev_target() -> SmtpTarget | None:
    address = get_settings().delivery.dev_smtp
    if not address:
        return None
    host, _, port = address.rpartition(":")
    return SmtpTarget(id=None, name="dev capture", host=host or "127.0.0.1", port=int(port), max_connections=10)


def target_of(server: SmtpServer) -> SmtpTarget:
    return SmtpTarget(
        id=server.id,
        name=server.name,
        host=server.host,
        port=server.port,
        tls_mode=server.tls_mode,
        username=server.username,
        password=secret_box.decrypt(server.password_encrypted),
        rate_per_second=server.rate_per_second,
        rate_per_hour=server.rate_per_hour,
        rate_per_day=server.rate_per_day,
        max_connections=server.max_connections,
    )


async def _load() -> tuple[object, list[SmtpTarget]]:
    async with get_sessionmaker()() as session:
        servers = list(
            await session.scalars(
                select(SmtpServer).where(SmtpServer.is_active).order_by(SmtpServer.priority, SmtpServer.id)
            )
        )
    version = tuple(
        (
            s.id,
            s.host,
            s.port,
            s.tls_mode,
            s.username,
            s.password_encrypted,
            s.rate_per_second,
            s.rate_per_hour,
            s.rate_per_day,
            s.max_connections,
            s.priority,
        )
        for s in servers
    )
    targets = [target_of(s) for s in servers]
    if not targets and (dev := dev_target()):
        targets = [dev]
    return version, targets


async def fresh_mailer() -> Mailer:
    """A Mailer from the configuration as it is now, for a few one-off messages (test sends from
    the web app); the caller closes it."""
    _, targets = await _load()
    return Mailer(targets, get_redis())


async def get_mailer() -> Mailer:
    now = time.monotonic()
    mailer = _state["mailer"]
    if mailer is not None and now - float(_state["checked"]) < RECHECK_SECONDS:
        return mailer  # type: ignore[return-value]
    version, targets = await _load()
    _state["checked"] = now
    if mailer is None or version != _state["version"]:
        if mailer is not None:
            await mailer.close()  # type: ignore[attr-defined]
        mailer = Mailer(targets, get_redis())
        _state.update(mailer=mailer, version=version)
    return mailer  # type: ignore[return-value]


async def has_any_server() -> bool:
    if get_settings().delivery.dev_smtp:
        return True
    async with get_sessionmaker()() as session:
        return bool(await session.scalar(select(func.count()).select_from(SmtpServer).where(SmtpServer.is_active)))
