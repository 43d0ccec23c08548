"""The worker's Mailer, built from the SMTP servers and API providers admins configured (or the dev
capture server when there are none), and replaced the moment that configuration changes:
PostgreSQL tells the workers (watch.py), and a message still waiting in the old mailer goes
through the new one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp.core import secret_box
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery.mailer import Handover, Mailer, Retired
from webapp.delivery.routed import Routing
from webapp.delivery.smtp_pool import ServerPool
from webapp.delivery.smtp_session import ServerDown, SmtpTarget, answers
from webapp.delivery.transports.api import ApiTransport, ProviderTarget
from webapp.delivery.transports.base import Route, Taken, Transport
from webapp.delivery.transports.kinds import check, client_for
from webapp.delivery.watch import watch
from webapp.providers import service as providers
from webapp.providers.models import Provider
from webapp.routing.service import rules as routing_rules
from webapp.routing.service import throttles
from webapp.settings.models import SmtpServer
from webapp.settings.service import smtp_servers

# Compared again after this long even without a notification (one missed during a reconnect).
RECHECK_SECONDS = 10.0
DEV_CONNECTIONS = 10


@dataclass
class _Current:
    """The process's mailer, the configuration it was built from, and when that was last compared."""

    mailer: Mailer | None = None
    version: tuple[tuple[Any, ...], ...] = ()
    checked: float = 0.0
    servers_changes: int = -1  # watch.servers_changes when it was compared
    reload: asyncio.Task[Mailer] | None = None
    routing: Routing | None = None  # kept across mailers: its health snapshot and random draws


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
        priority=server.priority,
        allow_private=server.allow_private,
    )


def provider_target(provider: Provider) -> ProviderTarget:
    return ProviderTarget(
        id=provider.id,
        name=provider.name,
        kind=provider.kind,
        settings=dict(provider.settings),
        credentials=providers.credentials(provider),
        batch_size=provider.batch_size,
        rate_per_second=provider.rate_per_second,
        rate_per_hour=provider.rate_per_hour,
        rate_per_day=provider.rate_per_day,
        max_connections=provider.max_connections,
        priority=provider.priority,
    )


@dataclass(frozen=True)
class _Targets:
    servers: list[SmtpTarget]
    providers: list[ProviderTarget]


async def _load() -> tuple[tuple[tuple[Any, ...], ...], _Targets]:
    """(what the mailer depends on, the servers and providers) as configured now."""
    async with get_sessionmaker()() as session:
        servers = await smtp_servers.list_servers(session, active_only=True)
        configured = await providers.list_providers(session, active_only=True)
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
    ) + tuple(
        (
            "provider",
            p.id,
            p.name,
            p.kind,
            repr(sorted(p.settings.items())),
            p.credentials_encrypted,
            p.batch_size,
            p.rate_per_second,
            p.rate_per_hour,
            p.rate_per_day,
            p.max_connections,
            p.priority,
        )
        for p in configured
    )
    targets = [target_of(s) for s in servers]
    if not targets and not configured and (dev := dev_target()):
        targets = [dev]
    return version, _Targets(targets, [provider_target(p) for p in configured])


async def _routing() -> Routing:
    """The process's routing with the rules and throttles as configured now."""
    async with get_sessionmaker()() as session:
        rules, limits = await routing_rules.active_rules(session), await throttles.limits(session)
    if _current.routing is None:
        _current.routing = Routing(get_redis())
    _current.routing.use(rules, limits)
    return _current.routing


async def fresh_mailer() -> Mailer:
    """A Mailer from the configuration as it is now, for a few one-off messages (test sends from
    the web app); the caller closes it."""
    _, targets = await _load()
    return _mailer(targets, lambda: True, await _routing())


def _mailer(targets: _Targets, current: Callable[[], bool], routing: Routing) -> Mailer:
    """current: whether the mailer still matches the configuration; checked before each message."""
    redis = get_redis()
    transports: list[Transport] = [ServerPool(t, redis, current) for t in targets.servers]
    transports += [ApiTransport(p, client_for(p), redis, current) for p in targets.providers]
    return Mailer(transports, routing)


def _current_is_configured() -> bool:
    """No change to the servers was notified since the current mailer was compared with them."""
    return _current.servers_changes == watch.servers_changes


def _current_is_fresh() -> bool:
    return (
        _current.mailer is not None
        and _current_is_configured()
        and time.monotonic() - _current.checked < RECHECK_SECONDS
    )


async def get_mailer() -> Mailer:
    watch.start()
    if _current_is_fresh() and _current.mailer is not None:
        return _current.mailer
    # Shielded: a message that gives up waiting must not cancel the reload the others wait for.
    return await asyncio.shield(_reloading())


def _reloading() -> asyncio.Task[Mailer]:
    """The reload in progress, started if there is none: every message that finds the mailer stale
    waits for the same one (a batch finds it stale all at once)."""
    loop = asyncio.get_running_loop()
    if _current.reload is None or _current.reload.done() or _current.reload.get_loop() is not loop:
        _current.reload = loop.create_task(_reload())
    return _current.reload


async def _reload() -> Mailer:
    changes = watch.servers_changes
    version, targets = await _load()
    routing = await _routing()  # rules and throttles apply without replacing the mailer
    if _current.mailer is None or version != _current.version:
        if _current.mailer is not None:
            _current.mailer.retire()
        _current.mailer, _current.version = _mailer(targets, _current_is_configured, routing), version
    _current.checked, _current.servers_changes = time.monotonic(), changes
    return _current.mailer


def _reload_soon() -> None:
    """Replace the mailer now, so messages waiting in the old one move to the new one at once."""
    if _current.mailer is not None:
        _reloading()


watch.on_servers_change(_reload_soon)


async def send(sender: str, recipient: str, message: bytes, hand: Handover | None = None, *, route: Route) -> Taken:
    """Send through the current mailer; which transport took the message (and the provider's id of it)."""
    while True:
        try:
            return await (await get_mailer()).send(sender, recipient, message, hand, route=route)
        except Retired:
            continue


async def any_server_answers() -> bool:
    """Whether at least one configured server takes a session (or provider an authenticated call) now."""
    _, targets = await _load()
    checks = [answers(t) for t in targets.servers] + [provider_answers(p) for p in targets.providers]
    return any(await asyncio.gather(*checks))


async def provider_answers(target: ProviderTarget) -> bool:
    try:
        await check(target)
    except ServerDown:
        return False
    return True
