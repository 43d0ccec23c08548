"""Reading the rollups for reports, the dashboard and the API. Every query reads rollup rows only
(a campaign has one hourly row per hour with activity), never email_events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics.schemas import (
    Activity,
    AudienceDay,
    CampaignActivity,
    ClientActivity,
    DomainActivity,
    LinkActivity,
    SeriesPoint,
)

COUNTERS = tuple(Activity.__struct_fields__)
SUMS = ", ".join(f"coalesce(sum(h.{name}), 0)::bigint AS {name}" for name in COUNTERS)

CAMPAIGN_TOTALS = text(f"SELECT {SUMS} FROM analytics_campaign_hourly h WHERE h.campaign_id = :c")

# The first 48 hours after :start by hour, then by UTC day.
SERIES = text(f"""
SELECT CASE WHEN h.hour < :start + interval '48 hours' THEN h.hour
            ELSE date_trunc('day', h.hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' END AS bucket,
       h.hour < :start + interval '48 hours' AS hourly, {SUMS}
FROM analytics_campaign_hourly h WHERE h.campaign_id = :c
GROUP BY 1, 2 ORDER BY 1
""")

SERIES_START = text("""
SELECT coalesce(c.started_at, (SELECT min(hour) FROM analytics_campaign_hourly WHERE campaign_id = c.id))
FROM campaigns c WHERE c.id = :c
""")

# Every one of the last :days UTC days, today included, with or without activity.
DAILY = text(f"""
SELECT days.day AT TIME ZONE 'UTC' AS day, {SUMS}
FROM generate_series((now() AT TIME ZONE 'UTC')::date - (:days - 1), (now() AT TIME ZONE 'UTC')::date,
                     interval '1 day') AS days(day)
LEFT JOIN analytics_campaign_hourly h
  ON h.campaign_id = :c AND h.hour >= days.day AT TIME ZONE 'UTC'
 AND h.hour < (days.day + interval '1 day') AT TIME ZONE 'UTC'
GROUP BY days.day ORDER BY days.day
""")

LINKS = text("""
SELECT l.id AS link_id, l.url, coalesce(r.clicks, 0) AS clicks, coalesce(r.unique_clicks, 0) AS unique_clicks,
       coalesce(r.human_clicks, 0) AS human_clicks
FROM links l LEFT JOIN analytics_link_clicks r ON r.link_id = l.id
WHERE l.campaign_id = :c
ORDER BY clicks DESC, l.id
""")

CLIENTS = text("""
SELECT client, device, opens, unique_opens, human_unique_opens FROM analytics_campaign_clients
WHERE campaign_id = :c AND human_unique_opens > 0 ORDER BY human_unique_opens DESC, opens DESC, client, device
""")

DOMAINS = text("""
SELECT domain, sent, opened, human_opened, clicked, human_clicked, bounced, complained FROM analytics_campaign_domains
WHERE campaign_id = :c ORDER BY sent DESC, opened DESC, domain LIMIT :limit
""")

AUDIENCE = text("""
SELECT days.day::date AS day, coalesce(a.subscribed, 0) AS subscribed,
       coalesce(a.unsubscribed, 0) AS unsubscribed, coalesce(a.bounced, 0) AS bounced
FROM generate_series((now() AT TIME ZONE 'UTC')::date - (:days - 1), (now() AT TIME ZONE 'UTC')::date,
                     interval '1 day') AS days(day)
LEFT JOIN analytics_audience_daily a ON a.day = days.day::date
ORDER BY days.day
""")

RECENT = text(f"""
SELECT c.id AS campaign_id, c.name, c.status, c.started_at, t.*
FROM (SELECT id, name, status, started_at FROM campaigns WHERE started_at IS NOT NULL
      ORDER BY started_at DESC, id DESC LIMIT :limit) c
CROSS JOIN LATERAL (SELECT {SUMS} FROM analytics_campaign_hourly h WHERE h.campaign_id = c.id) t
ORDER BY c.started_at DESC, c.id DESC
""")

CAMPAIGNS = text(f"""
SELECT c.id AS campaign_id, c.name, c.status, c.started_at, t.*
FROM campaigns c
CROSS JOIN LATERAL (SELECT {SUMS} FROM analytics_campaign_hourly h WHERE h.campaign_id = c.id) t
WHERE c.id = ANY(CAST(:ids AS bigint[]))
ORDER BY array_position(CAST(:ids AS bigint[]), c.id)
""")

OVERALL = text(f"SELECT {SUMS} FROM analytics_campaign_hourly h")

AUDIENCE_SIZE = text("""
SELECT count(*) AS total_contacts, count(*) FILTER (WHERE status = 'active' AND is_active) AS active_contacts,
       (SELECT count(*) FROM campaigns WHERE kind = 'marketing') AS total_campaigns,
       (SELECT count(*) FROM campaigns WHERE kind = 'marketing' AND status = 'sent') AS sent_campaigns
FROM contacts
""")


def _activity(row: Row[Any]) -> Activity:
    values = row._mapping
    return Activity(**{name: int(values[name]) for name in COUNTERS})


def _campaign(row: Row[Any]) -> CampaignActivity:
    return CampaignActivity(
        campaign_id=row.campaign_id,
        name=row.name,
        status=row.status,
        started_at=row.started_at,
        activity=_activity(row),
    )


async def campaign_totals(session: AsyncSession, campaign_id: int) -> Activity:
    return _activity((await session.execute(CAMPAIGN_TOTALS, {"c": campaign_id})).one())


async def series(session: AsyncSession, campaign_id: int) -> list[SeriesPoint]:
    start: datetime | None = await session.scalar(SERIES_START, {"c": campaign_id})
    if start is None:
        return []
    rows = await session.execute(SERIES, {"c": campaign_id, "start": start})
    return [SeriesPoint(start=row.bucket, hourly=row.hourly, activity=_activity(row)) for row in rows]


async def daily(session: AsyncSession, campaign_id: int, days: int) -> list[tuple[datetime, Activity]]:
    """Each day's midnight (UTC, as an aware datetime: SQL gives the UTC wall time) and activity."""
    rows = await session.execute(DAILY, {"c": campaign_id, "days": days})
    return [(row.day.replace(tzinfo=UTC), _activity(row)) for row in rows]


async def links(session: AsyncSession, campaign_id: int) -> list[LinkActivity]:
    return [LinkActivity(**row._mapping) for row in await session.execute(LINKS, {"c": campaign_id})]


async def clients(session: AsyncSession, campaign_id: int) -> list[ClientActivity]:
    return [ClientActivity(**row._mapping) for row in await session.execute(CLIENTS, {"c": campaign_id})]


async def domains(session: AsyncSession, campaign_id: int, limit: int) -> list[DomainActivity]:
    rows = await session.execute(DOMAINS, {"c": campaign_id, "limit": limit})
    return [DomainActivity(**row._mapping) for row in rows]


async def audience(session: AsyncSession, days: int) -> list[AudienceDay]:
    rows = await session.execute(AUDIENCE, {"days": days})
    return [AudienceDay(**row._mapping) for row in rows]


async def recent_campaigns(session: AsyncSession, limit: int) -> list[CampaignActivity]:
    return [_campaign(row) for row in await session.execute(RECENT, {"limit": limit})]


async def campaigns(session: AsyncSession, campaign_ids: list[int]) -> list[CampaignActivity]:
    return [_campaign(row) for row in await session.execute(CAMPAIGNS, {"ids": campaign_ids})]


async def overall(session: AsyncSession) -> Activity:
    return _activity((await session.execute(OVERALL)).one())


async def audience_size(session: AsyncSession) -> Row[Any]:
    return (await session.execute(AUDIENCE_SIZE)).one()
