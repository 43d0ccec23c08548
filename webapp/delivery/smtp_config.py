"""The worker's Mailer, built from the SMTP servers admins configured (or the dev capture server
when there are none), and rebuilt when that configuration changes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from webapp.core import secret_box
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.mailer import Mailer, SmtpTarget
from webapp.settings.models import SmtpServer
from webapp.settings.service import smtp_servers

RECHECK_SECONDS = 10.0
DEV_CONNECTIONS = 10


@dataclass
class _Current:
    """The process's mailer, the configuration it was built from, and when that was last compared."""

    mailer: Mailer | None = None
    version: tuple[tuple[Any, ...], ...] = ()
    checked: float = 0.0


_current = _Current()


def dev_target() -> SmtpTarget | None:
    address = get_settings().delivery.dev_smtp
    if not address:
        return None
    host, _, port = address.rpartition(":")
    return SmtpTarget(
        id=None, name="dev capture", host=host or "127.0.0.1", port=int(port), max_connections=DEV_CONNECTIONS
    )


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


async def _load() -> tuple[tuple[tuple[Any, ...], ...], list[SmtpTarget]]:
    """(what the mailer depends on, the targets in priority order) as configured now."""
    async with get_sessionmaker()() as session:
        servers = await smtp_servers.list_servers(session, active_only=True)
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
    if _current.mailer is not None and now - _current.checked < RECHECK_SECONDS:
        return _current.mailer
    version, targets = await _load()
    _current.checked = now
    if _current.mailer is None or version != _current.version:
        if _current.mailer is not None:
            await _current.mailer.close()
        _current.mailer, _current.version = Mailer(targets, get_redis()), version
    return _current.mailer
