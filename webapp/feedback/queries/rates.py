"""The counters complaint and bounce rates are worked out from: per campaign, and per sending domain
(the From address's domain) over recent campaigns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Counts:
    """A campaign's (or a sending domain's) counters, as the rates need them."""

    id: int | None
    subject: str  # the campaign's name, or the domain
    status: str
    status_reason: str
    sent: int
    failed: int
    delivered: int
    bounces: int
    complaints: int


CAMPAIGN_COLUMNS = """id, name, status, status_reason, sent_count, failed_count, delivered_count, bounced_count,
complained_count"""

CAMPAIGN_COUNTS = text(f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id")

RECENT_WITH_COMPLAINTS = text(f"""
SELECT {CAMPAIGN_COLUMNS} FROM campaigns
WHERE complained_count > 0 AND started_at > now() - make_interval(days => :days)
ORDER BY started_at DESC, id DESC
""")

# The From address's domain, lower-cased; campaigns that sent nothing yet add nothing.
DOMAIN_COUNTS = text("""
SELECT NULL, lower(split_part(from_email, '@', 2)) AS domain, '', '', sum(sent_count), sum(failed_count),
       sum(delivered_count), sum(bounced_count), sum(complained_count)
FROM campaigns
WHERE started_at > now() - make_interval(days => :days) AND sent_count + failed_count > 0
GROUP BY domain
ORDER BY sum(sent_count) DESC, domain
""")


async def campaign_counts(session: AsyncSession, campaign_ids: Sequence[int]) -> list[Counts]:
    if not campaign_ids:
        return []
    return [Counts(*row) for row in (await session.execute(CAMPAIGN_COUNTS, {"ids": list(campaign_ids)})).all()]


async def recent_campaigns_with_complaints(session: AsyncSession, days: int) -> list[Counts]:
    return [Counts(*row) for row in (await session.execute(RECENT_WITH_COMPLAINTS, {"days": days})).all()]


async def domain_counts(session: AsyncSession, days: int) -> list[Counts]:
    return [Counts(*row) for row in (await session.execute(DOMAIN_COUNTS, {"days": days})).all()]
