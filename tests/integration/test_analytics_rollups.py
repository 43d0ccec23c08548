"""The rollups follow every way events arrive (the event worker's batches, the send pipeline's
outcomes, rows another feature inserted), count each event once, tell machine opens and scanner
clicks apart, and a rebuild from the stored events gives the same figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.support.campaigns import audience, ready_campaign
from webapp.analytics import service as analytics
from webapp.core.errors import ValidationFailed
from webapp.delivery import queries as delivery_queries
from webapp.feedback import service as feedback
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.tracking import service as tracking
from webapp.tracking.service import hits

THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0"
IPHONE_MAIL = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
MPP = "Mozilla/5.0"
BARRACUDA = "Barracuda Sentinel (EE)"
ROLLUPS = ("analytics_campaign_hourly", "analytics_link_clicks", "analytics_campaign_clients",
           "analytics_campaign_domains", "analytics_audience_daily")  # fmt: skip


async def sent_campaign(db, recipients: int = 2, sent_ago: timedelta = timedelta(hours=1)):
    """A started campaign whose deliveries went out `sent_ago`, with two links; (id, deliveries, links)."""
    email_list = await audience(db, recipients)
    campaign = await ready_campaign(db, [email_list.id])
    sent_at = datetime.now(UTC) - sent_ago
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                SELECT :c, id, email, 'sent', :at FROM contacts ORDER BY id"""),
        {"c": campaign.id, "at": sent_at},
    )
    await db.execute(text("UPDATE campaigns SET status = 'sent', started_at = :at WHERE id = :c"),
                     {"c": campaign.id, "at": sent_at})  # fmt: skip
    links = list(
        await db.scalars(
            text("""INSERT INTO links (campaign_id, url) VALUES (:c, 'https://example.com/a'), (:c, 'https://example.com/b')
                    RETURNING id"""),
            {"c": campaign.id},
        )
    )
    deliveries = list(await db.scalars(text("SELECT id FROM deliveries ORDER BY id")))
    await db.commit()
    return campaign.id, deliveries, sorted(links)


async def stored_events(db, delivery_id: int, kinds: list[tuple[str, str]]) -> list[int]:
    """email_events rows of these (kind, detail) for the delivery, as another feature inserts them: not rolled up."""
    inserted = await db.scalars(
        text("""INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, detail)
                SELECT d.id, d.campaign_id, d.contact_id, k.kind, k.detail FROM deliveries d,
                unnest(CAST(:kinds AS text[]), CAST(:details AS text[])) AS k(kind, detail)
                WHERE d.id = :d RETURNING id"""),
        {"d": delivery_id, "kinds": [k for k, _ in kinds], "details": [d for _, d in kinds]},
    )
    return list(inserted)


def hit(kind: str, delivery_id: int, agent: str, link_id: int | None = None, at: datetime | None = None) -> hits.Hit:
    made = hits.new_hit(kind, delivery_id, link_id, agent)
    if at is None:
        return made
    return hits.Hit(made.key, kind, delivery_id, link_id, int(at.timestamp() * 1000), agent)


async def rollups(db) -> dict[str, list[tuple]]:
    """Each rollup's rows, leaving out rows with nothing counted."""
    return {table: [tuple(row) for row in await db.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))
                    if any(value for value in row[1:] if isinstance(value, int))]
            for table in ROLLUPS}  # fmt: skip


async def test_a_batch_of_opens_and_clicks_is_rolled_up_once_however_often_it_is_applied(db):
    campaign_id, (first, second), (link_a, link_b) = await sent_campaign(db)
    later = datetime.now(UTC) + timedelta(minutes=1)
    batch = [
        hit("open", first, THUNDERBIRD),
        hit("open", first, THUNDERBIRD),
        hit("open", second, IPHONE_MAIL),
        hit("click", first, CHROME, link_a, at=later),
        hit("click", first, CHROME, link_a, at=later + timedelta(seconds=30)),
    ]
    for _ in range(2):
        await hits.apply(db, batch)
    await db.commit()

    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.sent, summary.opens, summary.unique_opens, summary.human_unique_opens) == (0, 3, 2, 2)
    assert (summary.clicks, summary.unique_clicks, summary.human_unique_clicks) == (2, 1, 1)
    assert (summary.machine_opens, summary.scanner_clicks) == (0, 0)
    assert summary.click_to_open_rate == 50.0
    links = await analytics.link_clicks(db, campaign_id)
    assert [(row.link_id, row.clicks, row.unique_clicks) for row in links] == [(link_a, 2, 1), (link_b, 0, 0)]
    clients = await analytics.client_breakdown(db, campaign_id)
    assert [(c.client, c.device, c.opens, c.unique_opens) for c in clients] == [
        ("Thunderbird", "desktop", 2, 1),
        ("Apple Mail", "mobile", 1, 1),
    ]
    [domain] = await analytics.top_domains(db, campaign_id)
    assert (domain.domain, domain.opened, domain.human_opened, domain.clicked) == ("example.com", 2, 2, 1)

    await hits.apply(db, [hit("open", first, THUNDERBIRD)])  # a later open of an opened message
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.opens, summary.unique_opens) == (4, 2)


async def test_machine_opens_and_scanner_clicks_are_flagged_and_counted_apart(db):
    campaign_id, (proxied, scanned), (link_a, link_b) = await sent_campaign(db)
    now = datetime.now(UTC)
    await hits.apply(db, [hit("open", proxied, MPP, at=now)])
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.opens, summary.machine_opens, summary.unique_opens, summary.human_unique_opens) == (1, 1, 1, 0)

    await hits.apply(db, [hit("open", proxied, IPHONE_MAIL, at=now + timedelta(minutes=5))])  # the reader, later
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.opens, summary.machine_opens, summary.unique_opens, summary.human_unique_opens) == (2, 1, 1, 1)

    # A scanner follows every link of a message at once, with a browser's agent ...
    await hits.apply(db, [hit("click", scanned, CHROME, link_a, at=now), hit("click", scanned, CHROME, link_b, at=now)])
    # ... or the next second, in a later batch, or with an agent of its own.
    await hits.apply(db, [hit("click", scanned, CHROME, link_a, at=now + timedelta(seconds=1))])
    await hits.apply(db, [hit("click", proxied, BARRACUDA, link_a, at=now)])
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.clicks, summary.scanner_clicks, summary.unique_clicks, summary.human_unique_clicks) == (4, 4, 2, 0)
    # A click proves the message was opened, by a machine here.
    assert (summary.unique_opens, summary.human_unique_opens) == (2, 1)
    # Per client and per domain too, people apart: the proxy's client had no person's first open.
    clients = await analytics.client_breakdown(db, campaign_id)
    assert [(c.client, c.opens, c.unique_opens, c.human_unique_opens) for c in clients] == [("Apple Mail", 1, 0, 1)]
    [domain] = await analytics.top_domains(db, campaign_id)
    assert (domain.opened, domain.human_opened, domain.clicked, domain.human_clicked) == (2, 1, 2, 0)

    await hits.apply(db, [hit("click", scanned, CHROME, link_b, at=now + timedelta(minutes=10))])  # the reader
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.human_unique_clicks, summary.human_unique_opens) == (1, 2)
    stored = text("SELECT machine, client, device FROM email_events WHERE user_agent = :a")
    assert (await db.execute(stored, {"a": MPP})).one() == (True, "Apple Mail", "unknown")


async def test_opens_right_after_sending_are_prefetches_and_clicks_scans(db):
    campaign_id, (delivery, _), (link_a, _) = await sent_campaign(db, sent_ago=timedelta(seconds=1))
    await hits.apply(db, [hit("open", delivery, THUNDERBIRD), hit("click", delivery, CHROME, link_a)])
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.machine_opens, summary.scanner_clicks, summary.human_unique_opens) == (1, 1, 0)


async def test_the_send_pipeline_rolls_up_sends_and_smtp_bounces(db):
    campaign_id, (sent, bounced), _ = await sent_campaign(db)
    await db.execute(text("UPDATE deliveries SET status = 'sending', sent_at = NULL"))
    outcomes = [
        delivery_queries.Outcome(sent, "sent"),
        delivery_queries.Outcome(bounced, "failed", error="550 5.1.1 no such user", bounced=True),
    ]
    await delivery_queries.record_outcomes(db, campaign_id, outcomes, cancelled_error="")
    await delivery_queries.record_outcomes(db, campaign_id, outcomes, cancelled_error="")  # recorded already
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.sent, summary.hard_bounces, summary.soft_bounces, summary.bounce_rate) == (1, 1, 0, 100.0)
    [domain] = await analytics.top_domains(db, campaign_id)
    assert (domain.sent, domain.bounced) == (1, 1)


async def test_events_another_feature_inserted_are_rolled_up_by_kind(db):
    campaign_id, (first, _), _ = await sent_campaign(db)
    kinds = [
        ("bounce", "soft: 452 4.2.2 mailbox full"),
        ("bounce", "hard: 550 5.1.1 unknown user"),
        ("complaint", "abuse"),
        ("unsubscribe", ""),
    ]
    await analytics.roll_up_events(db, await stored_events(db, first, kinds))
    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.soft_bounces, summary.hard_bounces, summary.complaints, summary.unsubscribes) == (1, 1, 1, 1)
    await analytics.recount_audience(db)
    [today] = await analytics.audience_growth(db, 1)
    assert today.subscribed == 2  # the campaign's two recipients were added today


async def test_a_message_reported_delivered_bounced_or_complained_of_again_is_counted_once(db):
    campaign_id, (first, second), _ = await sent_campaign(db)
    to_first, to_second = [
        await db.scalar(text("SELECT email FROM deliveries WHERE id = :d"), {"d": d}) for d in (first, second)
    ]

    def report(source_id: str, kind: FeedbackKind, email: str, delivery_id: int, **more) -> FeedbackEvent:
        return FeedbackEvent(
            source=FeedbackSource.GENERIC, source_id=source_id, kind=kind, email=email, at=datetime.now(UTC),
            delivery_id=delivery_id, **more,
        )  # fmt: skip

    # Each report has an id of its own: a provider that reports one message twice, or two providers.
    await feedback.record(db, [report("d1", FeedbackKind.DELIVERED, to_second, second)])
    await feedback.record(db, [report("d2", FeedbackKind.DELIVERED, to_second, second)])
    for source_id in ("b1", "b2", "b3"):
        bounce = report(source_id, FeedbackKind.BOUNCED, to_first, first, bounce_type="hard", detail="550 5.1.1")
        await feedback.record(db, [bounce])
    await feedback.record(
        db, [report(f"s{i}", FeedbackKind.BOUNCED, to_second, second, bounce_type="soft") for i in (1, 2)]
    )
    await feedback.record(db, [report(f"c{i}", FeedbackKind.COMPLAINED, to_second, second) for i in (1, 2)])

    summary = await analytics.campaign_summary(db, campaign_id)
    assert (summary.delivered, summary.hard_bounces, summary.soft_bounces, summary.complaints) == (1, 1, 1, 1)
    [domain] = await analytics.top_domains(db, campaign_id)
    assert (domain.bounced, domain.complained) == (2, 1), "one bounce per message, whatever its kinds"
    kept = await rollups(db)
    await analytics.rebuild(db)
    assert (await rollups(db))["analytics_campaign_domains"][0][3:] == kept["analytics_campaign_domains"][0][3:]


async def test_every_door_of_an_opt_out_counts_in_the_audience_growth(db):
    _, (first, second, _), _ = await sent_campaign(db, recipients=3)
    contact_ids = list(await db.scalars(text("SELECT id FROM contacts ORDER BY id")))
    # The preference centre's unsubscribe from all, reached without a message link: no email event.
    await subscriptions.unsubscribe_all(db, contact_ids[2], Origin(source="preference centre"))
    await tracking.unsubscribe(db, first, "one-click")
    bounced_to = await db.scalar(text("SELECT email FROM deliveries WHERE id = :d"), {"d": second})
    report = FeedbackEvent(
        source=FeedbackSource.GENERIC, source_id="b1", kind=FeedbackKind.BOUNCED, email=bounced_to,
        at=datetime.now(UTC), delivery_id=second, bounce_type="hard", detail="550 5.1.1 unknown user",
    )  # fmt: skip
    await feedback.record(db, [report])

    await analytics.recount_audience(db)

    [today] = await analytics.audience_growth(db, 1)
    assert (today.subscribed, today.unsubscribed, today.bounced) == (3, 2, 1)


async def test_a_rebuild_from_the_stored_events_gives_the_same_rollups(db):
    campaign_id, (first, second), (link_a, link_b) = await sent_campaign(db)
    now = datetime.now(UTC)
    await hits.apply(db, [hit("open", first, MPP, at=now), hit("open", second, THUNDERBIRD, at=now)])
    await hits.apply(db, [hit("click", first, CHROME, link_a, at=now + timedelta(hours=2))])
    await hits.apply(db, [hit("click", first, CHROME, link_b, at=now + timedelta(hours=2, seconds=1))])
    await db.execute(text("UPDATE deliveries SET status = 'sending', sent_at = NULL WHERE id = :d"), {"d": second})
    await delivery_queries.record_outcomes(
        db, campaign_id, [delivery_queries.Outcome(second, "sent")], cancelled_error=""
    )
    await analytics.recount_audience(db)
    kept = await rollups(db)
    assert kept["analytics_campaign_hourly"]  # something to compare

    await analytics.rebuild(db)
    rebuilt = await rollups(db)
    # The first delivery's send is not in the rollups kept as it happened (it was marked sent directly).
    assert rebuilt["analytics_campaign_domains"][0][2] == kept["analytics_campaign_domains"][0][2] + 1
    for table in ROLLUPS:
        if table not in ("analytics_campaign_domains", "analytics_campaign_hourly"):
            assert rebuilt[table] == kept[table], table

    def all_but_sent(rows):
        return [row[:2] + row[3:] for row in rows if any(row[3:])]

    assert all_but_sent(rebuilt["analytics_campaign_hourly"]) == all_but_sent(kept["analytics_campaign_hourly"])


async def test_the_series_is_hourly_for_48_hours_from_the_start_of_sending_then_daily(db):
    campaign_id, (first, second), (link_a, _) = await sent_campaign(db, sent_ago=timedelta(days=5))
    start = await db.scalar(text("SELECT started_at FROM campaigns WHERE id = :c"), {"c": campaign_id})
    await hits.apply(
        db,
        [
            hit("open", first, THUNDERBIRD, at=start + timedelta(hours=1)),
            hit("open", second, THUNDERBIRD, at=start + timedelta(hours=3)),
            hit("click", first, CHROME, link_a, at=start + timedelta(hours=60)),
            hit("open", first, THUNDERBIRD, at=start + timedelta(hours=61)),
        ],
    )
    points = await analytics.campaign_series(db, campaign_id)
    assert [p.hourly for p in points][:2] == [True, True] and not any(p.hourly for p in points[2:])
    assert sum(p.activity.opens for p in points) == 3 and sum(p.activity.clicks for p in points) == 1
    assert points[0].start == start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    daily = [p for p in points if not p.hourly]
    assert all(p.start.hour == 0 for p in daily)


async def test_recent_campaigns_and_a_comparison_carry_each_campaigns_totals(db):
    campaign_id, (first, second), _ = await sent_campaign(db)
    await hits.apply(db, [hit("open", first, THUNDERBIRD), hit("open", second, MPP)])
    draft = await ready_campaign(db, [])
    await db.commit()

    [recent] = await analytics.recent_campaigns(db)  # the draft never started sending
    assert (recent.campaign_id, recent.activity.opens, recent.activity.human_unique_opens) == (campaign_id, 2, 1)
    compared = await analytics.compare(db, [campaign_id, campaign_id])
    assert [(c.campaign_id, c.activity.unique_opens) for c in compared] == [(campaign_id, 2)]
    with pytest.raises(ValidationFailed) as refused:  # a column of zeros compares nothing
        await analytics.compare(db, [draft.id, campaign_id])
    assert refused.value.errors == {"campaigns": "Not sent yet, so nothing to compare: Test campaign."}
    with pytest.raises(ValidationFailed) as refused:
        await analytics.compare(db, [1, 2, 3, 4, 5])
    assert set(refused.value.errors) == {"campaigns"}
    assert (await analytics.overall(db)).opens == 2
