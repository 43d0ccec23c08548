"""Rollup rows for the analytics pages to show, written as the event worker and the send pipeline
would leave them for a campaign that went out `days_ago` days ago: activity in its first hours,
then on a later day, per link, per mail client and per domain, and audience movement by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics.models import CampaignClients, CampaignDomains, CampaignHourly, LinkClicks
from webapp.delivery.queries import register_links

FIRST_HOUR = {
    "sent": 100,
    "delivered": 0,
    "opens": 55,
    "unique_opens": 40,
    "human_unique_opens": 30,
    "machine_opens": 12,
    "clicks": 9,
    "unique_clicks": 6,
    "human_unique_clicks": 5,
    "scanner_clicks": 2,
    "hard_bounces": 2,
    "soft_bounces": 1,
    "complaints": 1,
    "unsubscribes": 3,
}
LATER = {
    "opens": 4,
    "unique_opens": 3,
    "human_unique_opens": 3,
    "clicks": 2,
    "unique_clicks": 1,
    "human_unique_clicks": 1,
}


async def sent_campaign_activity(
    session: AsyncSession, campaign_id: int, urls: list[str], *, days_ago: int = 4
) -> datetime:
    """Mark the campaign sent `days_ago` days ago and give it activity; its start of sending."""
    started = (datetime.now(UTC) - timedelta(days=days_ago)).replace(minute=20, second=0, microsecond=0)
    await session.execute(
        text(
            "UPDATE campaigns SET status = 'sent', started_at = :t, completed_at = :t, sent_count = 100 WHERE id = :c"
        ),
        {"t": started, "c": campaign_id},
    )
    hour = started.replace(minute=0)
    session.add(CampaignHourly(campaign_id=campaign_id, hour=hour, **FIRST_HOUR))
    session.add(
        CampaignHourly(
            campaign_id=campaign_id,
            hour=hour + timedelta(hours=3),
            opens=6,
            unique_opens=5,
            human_unique_opens=5,
            clicks=1,
            unique_clicks=1,
            human_unique_clicks=1,
        )
    )
    session.add(CampaignHourly(campaign_id=campaign_id, hour=hour + timedelta(days=3), **LATER))
    link_ids = await register_links(session, campaign_id, urls)
    for i, url in enumerate(urls):
        session.add(
            LinkClicks(
                link_id=link_ids[url],
                campaign_id=campaign_id,
                clicks=7 - 3 * i,
                unique_clicks=5 - 2 * i,
                human_clicks=6 - 3 * i,
            )
        )
    session.add(
        CampaignClients(
            campaign_id=campaign_id,
            client="Apple Mail",
            device="phone",
            opens=20,
            unique_opens=15,
            human_unique_opens=6,
        )
    )
    session.add(
        CampaignClients(
            campaign_id=campaign_id, client="Gmail", device="desktop", opens=10, unique_opens=8, human_unique_opens=7
        )
    )
    session.add(  # only a privacy proxy's opens: no person's, so not among the clients people read with
        CampaignClients(campaign_id=campaign_id, client="Outlook", device="unknown", opens=3, unique_opens=3)
    )
    session.add(
        CampaignDomains(
            campaign_id=campaign_id,
            domain="example.com",
            sent=60,
            opened=30,
            human_opened=22,
            clicked=4,
            human_clicked=3,
            bounced=2,
            complained=1,
        )
    )
    session.add(
        CampaignDomains(
            campaign_id=campaign_id,
            domain="example.org",
            sent=40,
            opened=12,
            human_opened=9,
            clicked=2,
            human_clicked=2,
            bounced=1,
            complained=0,
        )
    )
    await session.flush()
    return started


async def audience_movement(session: AsyncSession) -> None:
    """Subscribed, unsubscribed and bounced on a few of the last 30 days before today (today's
    figures are counted again from the contacts whenever the dashboard shows them)."""
    today = datetime.now(UTC).date()
    for days_ago, (subscribed, unsubscribed, bounced) in {1: (4, 1, 0), 2: (12, 0, 1), 9: (30, 2, 2)}.items():
        await session.execute(
            text("""INSERT INTO analytics_audience_daily (day, subscribed, unsubscribed, bounced)
                    VALUES (:d, :s, :u, :b)
                    ON CONFLICT (day) DO UPDATE SET subscribed = analytics_audience_daily.subscribed + :s,
                      unsubscribed = analytics_audience_daily.unsubscribed + :u,
                      bounced = analytics_audience_daily.bounced + :b"""),
            {"d": today - timedelta(days=days_ago), "s": subscribed, "u": unsubscribed, "b": bounced},
        )
