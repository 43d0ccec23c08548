"""Raw events are kept ANALYTICS_DATA_RETENTION_DAYS, then dropped a month partition at a time by
the scheduler's maintenance, which also keeps the coming months' partitions ready; the rollups
keep counting what the dropped events were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.integration.test_analytics_rollups import THUNDERBIRD, hit, sent_campaign
from webapp.analytics import service as analytics
from webapp.analytics.queries import partitions as partition_queries
from webapp.analytics.service import partitions
from webapp.tracking.service import hits

EVENTS = text("SELECT count(*) FROM email_events")


async def test_a_month_past_retention_is_dropped_and_its_rollups_stay(db):
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=800)
    assert await partitions.maintain(db, now=long_ago) == []  # that month's partitions, made as they were then
    campaign_id, (first, second), _ = await sent_campaign(db, sent_ago=timedelta(days=801))
    await hits.apply(db, [hit("open", first, THUNDERBIRD, at=long_ago), hit("open", second, THUNDERBIRD, at=now)])
    await db.commit()
    assert await db.scalar(EVENTS) == 2

    dropped = await partitions.maintain(db)
    await db.commit()
    assert partition_queries.partition_name(long_ago.date().replace(day=1)) in dropped
    existing = await partition_queries.monthly_partitions(db)
    assert min(existing) > (now - timedelta(days=730)).date().replace(day=1) - timedelta(days=31)
    assert await db.scalar(EVENTS) == 1  # today's is kept
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.opens, summary.unique_opens) == (2, 2)
    assert len(await analytics.campaign_series(db, campaign_id)) == 2


async def test_the_coming_months_partitions_are_made_ahead_and_nothing_is_dropped_twice(db):
    now = datetime.now(UTC)
    await partitions.maintain(db, now=now)
    months = sorted(await partition_queries.monthly_partitions(db))
    this_month = now.date().replace(day=1)
    assert months[-3:] == partitions.months_from(this_month, 3)
    assert await partitions.maintain(db, now=now) == []


async def test_an_event_dated_outside_every_month_is_kept_in_the_default_partition(db):
    campaign_id, (first, _), _ = await sent_campaign(db)
    far_future = datetime.now(UTC) + timedelta(days=400)
    await hits.apply(db, [hit("open", first, THUNDERBIRD, at=far_future)])
    assert await db.scalar(text("SELECT count(*) FROM email_events_other")) == 1
    assert (await analytics.campaign_summary(db, campaign_id)).opens == 1
