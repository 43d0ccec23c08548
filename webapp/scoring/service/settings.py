"""The lifecycle thresholds: the score each stage after "subscriber" begins at, kept in the
settings table under "scoring"."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.scoring.schemas import DEFAULT_THRESHOLDS
from webapp.settings.service import stored

KEY = "scoring"


async def thresholds(session: AsyncSession) -> dict[str, int]:
    saved = (await stored.load(session, KEY)).get("thresholds", {})
    return {stage: int(saved.get(stage, default)) for stage, default in DEFAULT_THRESHOLDS.items()}


async def save(session: AsyncSession, values: Mapping[str, int]) -> None:
    document = await stored.load(session, KEY)
    await stored.save(session, KEY, {**document, "thresholds": {stage: values[stage] for stage in DEFAULT_THRESHOLDS}})
