"""The contacts enrolled in an automation, as its pages show them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.queries import effects


async def emails(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, str]:
    """Their addresses by contact id (a contact erased since is left out)."""
    return await effects.emails(session, contact_ids) if contact_ids else {}
