"""Settings storage: one JSON document per settings key (app_settings), and the SMTP servers in
the order they are tried."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.providers.models import Provider
from webapp.settings.models import AppSetting, SmtpServer


async def setting(session: AsyncSession, key: str) -> Any:
    """The stored value of a settings key, or None if it was never saved."""
    return await session.scalar(select(AppSetting.value).where(AppSetting.key == key))


async def save_setting(session: AsyncSession, key: str, value: Any) -> None:
    """Insert or replace, in one statement: two admins saving at once cannot both insert."""
    statement = insert(AppSetting).values(key=key, value=value)
    await session.execute(statement.on_conflict_do_update(index_elements=[AppSetting.key], set_={"value": value}))


async def smtp_servers(session: AsyncSession, *, active_only: bool = False) -> list[SmtpServer]:
    """Lowest priority first (tried first), then oldest."""
    query = select(SmtpServer).order_by(SmtpServer.priority, SmtpServer.id)
    if active_only:
        query = query.where(SmtpServer.is_active)
    return list(await session.scalars(query))


async def transport_named(
    session: AsyncSession, name: str, *, smtp_id: int | None = None, provider_id: int | None = None
) -> tuple[str, int] | None:
    """The SMTP server ("smtp", id) or provider ("provider", id) named `name` in any case, other
    than the one being saved."""
    servers = select(literal("smtp").label("kind"), SmtpServer.id).where(
        func.lower(SmtpServer.name) == name.lower(), SmtpServer.id != (smtp_id or 0)
    )
    providers = select(literal("provider").label("kind"), Provider.id).where(
        func.lower(Provider.name) == name.lower(), Provider.id != (provider_id or 0)
    )
    found = (await session.execute(union_all(servers, providers).limit(1))).first()
    return None if found is None else (found[0], found[1])
