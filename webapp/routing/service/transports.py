"""The transports a rule may name: every SMTP server ("smtp:<id>") and API provider ("provider:<id>")."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.routing import queries
from webapp.settings.service import smtp_servers


async def transport_names(session: AsyncSession) -> dict[str, str]:
    """Every configured transport (active or not) by key: its name."""
    servers = {f"smtp:{s.id}": s.name for s in await smtp_servers.list_servers(session)}
    return servers | {f"provider:{i}": name for i, name in await queries.provider_names(session)}
