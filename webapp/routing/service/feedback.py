"""Bounces and complaints reported after sending, counted against the transport that carried each
message (its health: health.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.redis import get_redis
from webapp.routing import queries
from webapp.routing.service.health import Health


async def count_feedback(session: AsyncSession, bounced_ids: Sequence[int], complained_ids: Sequence[int]) -> None:
    """Hard bounces and complaints, by delivery id; each report once (the caller passes new ones)."""
    if not bounced_ids and not complained_ids:
        return
    transports = await queries.transports_of(session, [*bounced_ids, *complained_ids])
    bounced = Counter(transports[i] for i in bounced_ids if i in transports)
    complained = Counter(transports[i] for i in complained_ids if i in transports)
    health = Health(get_redis())
    for key in bounced.keys() | complained.keys():
        await health.feedback(key, bounced=bounced[key], complained=complained[key])
