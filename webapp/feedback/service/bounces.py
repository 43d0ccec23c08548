"""What a hard bounce does, however it was learnt: the send pipeline's own 5xx refusal or a
provider's report. One door, so both always have the same effects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.feedback import queries
from webapp.suppression.service import suppression


async def hard_bounced(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    """Deliveries just marked bounced (bounced_at set, each once): their campaigns count them, active
    contacts become bounced, and the addresses are suppressed (reason bounce, the diagnostic as note)."""
    await queries.bounce_effects(session, delivery_ids)
    await suppression.suppress_bounced(session, delivery_ids)
