"""The transports: every SMTP server ("smtp:<id>") and API provider ("provider:<id>"), by name
(what a rule may name), and each one's health and hours (the transports page)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.redis import get_redis
from webapp.providers import service as providers
from webapp.routing.models import TransportHour
from webapp.routing.service import hours
from webapp.routing.service.health import Health, Status
from webapp.settings.service import smtp_servers


async def transport_names(session: AsyncSession) -> dict[str, str]:
    """Every configured transport (active or not) by key: its name."""
    servers = {f"smtp:{s.id}": s.name for s in await smtp_servers.list_servers(session)}
    return servers | {f"provider:{p.id}": p.name for p in await providers.list_providers(session)}


async def switched_off(session: AsyncSession) -> set[str]:
    """The keys of the transports that are configured but not active: they send nothing."""
    servers = {f"smtp:{s.id}" for s in await smtp_servers.list_servers(session) if not s.is_active}
    return servers | {f"provider:{p.id}" for p in await providers.list_providers(session) if not p.is_active}


@dataclass(frozen=True)
class TransportView:
    key: str
    name: str
    status: Status
    hours: list[TransportHour]  # oldest first; hours without traffic are missing
    active: bool = True  # False: switched off on its settings page, it sends nothing


async def overview(session: AsyncSession, days: int) -> list[TransportView]:
    """Every configured transport with its health now and its hours of the last `days` days."""
    names = await transport_names(session)
    statuses = await Health(get_redis()).snapshot(list(names))
    by_key: dict[str, list[TransportHour]] = {}
    for row in await hours.recent(session, days):
        by_key.setdefault(row.transport, []).append(row)
    off = await switched_off(session)
    return [TransportView(key, name, statuses[key], by_key.get(key, []), key not in off) for key, name in names.items()]
