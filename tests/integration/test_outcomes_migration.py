"""Migration 0045 builds the rollups again, so a message's bounce or complaint reported more than once
before it counts once in campaigns already reported on."""

from __future__ import annotations

import asyncio

from tests.integration.test_analytics_migration import alembic
from tests.integration.test_analytics_rollups import sent_campaign, stored_events
from webapp.analytics import service as analytics


async def test_outcomes_reported_twice_before_count_once_after_the_migration(db):
    campaign_id, (first, _), _ = await sent_campaign(db)
    await db.commit()
    await db.close()
    await asyncio.to_thread(alembic, "downgrade", "0044")
    try:
        kinds = [("bounce", "hard: 550 5.1.1"), ("bounce", "hard: 550 5.1.1"), ("complaint", ""), ("complaint", "")]
        ids = await stored_events(db, first, kinds)
        await db.commit()
        assert len(ids) == 4  # stored, and not rolled up: the migration counts them
    finally:
        await db.close()
        await asyncio.to_thread(alembic, "upgrade", "head")

    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.sent, summary.hard_bounces, summary.complaints) == (2, 1, 1)
