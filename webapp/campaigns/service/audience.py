"""Who a campaign reaches: the union of its lists of any type (static members, dynamic and
segmented rules evaluated now), minus inactive, unsubscribed, bounced, pending and suppressed
contacts. The same predicate counts the audience in the wizard and materialises it at send time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.queries import audience, listing
from webapp.core.config import get_settings
from webapp.core.queries import within_time_limit
from webapp.lists.service.audience import audience_condition


async def count_for_lists(session: AsyncSession, list_ids: Sequence[int]) -> int | None:
    """How many contacts a campaign to these lists would reach now; None when counting takes longer
    than a segment's live count may (their rules are people's)."""
    if not list_ids:
        return 0
    lists = await audience.lists_by_id(session, list_ids)
    counting = audience.count(session, audience_condition(lists, datetime.now(UTC)))
    return await within_time_limit(session, get_settings().segments.live_count_seconds, counting)


async def materialise_campaign(session: AsyncSession, campaign_id: int, *, engaged_first: bool = False) -> int | None:
    """Create the campaign's delivery rows from its lists as they are now; returns the total, or
    None (and no rows) when finding them took longer than MAILROOM_SEGMENT_SEND_SECONDS.
    engaged_first: its recent openers and clickers are sent first (see queries.audience)."""
    lists = await listing.lists_of(session, campaign_id)
    condition = audience_condition(lists, datetime.now(UTC))
    writing = audience.materialise(session, campaign_id, condition, engaged_first=engaged_first)
    return await within_time_limit(session, get_settings().segments.send_seconds, writing)


def too_slow_to_select(seconds: float) -> str:
    limit = f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} s"
    return (
        f"Finding this campaign's recipients took longer than {limit}, the time limit. "
        "A segment with fewer or narrower conditions is found faster."
    )
