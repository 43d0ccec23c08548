"""The analytics migration converts a database that already has events: the same rows, now in
monthly partitions, their agents classified, and the rollups built from them."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from tests.integration.test_analytics_rollups import MPP, THUNDERBIRD, sent_campaign
from webapp.analytics import service as analytics
from webapp.cli import ROOT
from webapp.core.config import get_settings


def alembic(action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", get_settings().database.url)
    getattr(command, action)(config, revision)


async def test_stored_events_are_partitioned_classified_and_rolled_up(db):
    campaign_id, (first, second), (link_a, _) = await sent_campaign(db)
    await db.close()
    await asyncio.to_thread(alembic, "downgrade", "0009")
    try:
        await db.execute(
            text("""INSERT INTO email_events (event_key, delivery_id, campaign_id, contact_id, kind, link_id, at,
                                              user_agent)
                    SELECT gen_random_uuid(), d.id, d.campaign_id, d.contact_id, k.kind, k.link, now(), k.agent
                    FROM deliveries d, (VALUES ('open', NULL, :reader), ('open', NULL, :proxy),
                                               ('click', CAST(:link AS bigint), :reader)) AS k(kind, link, agent)
                    WHERE d.id = :d"""),
            {"d": first, "reader": THUNDERBIRD, "proxy": MPP, "link": link_a},
        )
        await db.execute(
            text("""INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, detail)
                    SELECT id, campaign_id, contact_id, 'bounce', '550 5.1.1 unknown' FROM deliveries WHERE id = :d"""),
            {"d": second},
        )
        before = [tuple(row) for row in await db.execute(text("SELECT id, kind, at FROM email_events ORDER BY id"))]
        await db.commit()
    finally:
        await db.close()
        await asyncio.to_thread(alembic, "upgrade", "head")

    after = [tuple(row) for row in await db.execute(text("SELECT id, kind, at FROM email_events ORDER BY id"))]
    assert after == before
    partitioned = text("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = CAST('email_events' AS regclass)")
    assert await db.scalar(partitioned) == 1
    classified = await db.execute(text("SELECT client, machine FROM email_events WHERE kind = 'open' ORDER BY id"))
    assert [tuple(row) for row in classified] == [("Thunderbird", False), ("Apple Mail", True)]
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.sent, summary.opens, summary.machine_opens, summary.human_unique_opens) == (2, 2, 1, 1)
    assert (summary.clicks, summary.hard_bounces) == (1, 1)
    new_id = await db.scalar(
        text("""INSERT INTO email_events (delivery_id, campaign_id, kind) SELECT id, campaign_id, 'open'
                FROM deliveries WHERE id = :d RETURNING id"""),
        {"d": first},
    )
    assert new_id > max(row[0] for row in before)  # the identity goes on after the copied rows
