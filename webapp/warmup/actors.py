"""Warm-up's background work: the scheduler tick holds back the plans whose bounce or complaint
rate passed their threshold (service/holds.py). Cheap: a few counts per active plan."""

from __future__ import annotations

import logging

from webapp.core.db import get_sessionmaker
from webapp.warmup.service import holds

log = logging.getLogger("mailroom.warmup")


async def hold_over_thresholds() -> None:
    """From the scheduler tick."""
    async with get_sessionmaker()() as session:
        for plan in await holds.hold_over_thresholds(session):
            log.warning("warm-up plan %s (%s) is held back: %s", plan.id, plan.name, plan.held_reason)
        await session.commit()
