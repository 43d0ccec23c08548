"""Bounces and complaints reported later (DSNs, provider webhooks, feedback loops) count against
the transport that carried the message, once per report."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.test_feedback_record import hard_bounce, record, report, sent_campaign
from tests.support.campaigns import smtp_server
from webapp.core.redis import get_redis
from webapp.feedback.schemas import FeedbackKind
from webapp.routing.service.health import Health


async def test_a_bounce_and_a_complaint_count_against_the_transport_that_sent_the_message(db):
    campaign_id, deliveries = await sent_campaign(db, size=3)
    # An id no other test's server has: a live server still holding an earlier test's successes in
    # its buffer (flushed each second) would otherwise add them to this relay's counts.
    await db.execute(text("SELECT setval('smtp_servers_id_seq', 1000)"))
    relay = await smtp_server(db, 2525)
    await db.execute(
        text("UPDATE deliveries SET smtp_server_id = :s WHERE campaign_id = :c"), {"s": relay.id, "c": campaign_id}
    )
    await db.commit()
    key = f"smtp:{relay.id}"
    health = Health(get_redis())
    for _ in range(3):
        health.record(key, "sent")

    await record(db, [hard_bounce(deliveries[0].email), report(FeedbackKind.COMPLAINED, deliveries[1].email, "c1")])
    await record(db, [hard_bounce(deliveries[0].email)])  # the same report again

    status = (await health.snapshot([key]))[key]
    assert status.bounce_rate == 1 / 3 and status.complaint_rate == 1 / 3


async def test_feedback_about_a_message_no_transport_is_known_for_counts_nowhere(db):
    _, deliveries = await sent_campaign(db, size=1)
    await record(db, [hard_bounce(deliveries[0].email)])
    assert await get_redis().keys("health:*") == []
