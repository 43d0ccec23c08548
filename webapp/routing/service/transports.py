"""The transports a rule may name: every SMTP server, by key ("smtp:<id>") and name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.settings.service import smtp_servers


async def transport_names(session: AsyncSession) -> dict[str, str]:
    """Every configured transport (active or not), in the order they are tried by default."""
    return {f"smtp:{s.id}": s.name for s in await smtp_servers.list_servers(session)}
