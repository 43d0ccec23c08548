"""JSON API: a campaign's daily analytics, the platform's figures and each contact's email_stats,
in seed 000's shapes, read from the rollups the event worker and the send pipeline keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.integration.test_analytics_rollups import CHROME, MPP, THUNDERBIRD, hit, sent_campaign
from tests.support.campaigns import ready_campaign
from webapp.delivery import queries as delivery_queries
from webapp.tracking.service import hits

DAY_KEYS = {
    "campaign_id",
    "date",
    "emails_sent",
    "emails_delivered",
    "emails_opened",
    "emails_clicked",
    "emails_bounced",
    "emails_unsubscribed",
    "open_rate",
    "click_rate",
    "bounce_rate",
    "unsubscribe_rate",
}


async def engaged_campaign(db) -> int:
    """Four messages sent today: one bounced, one opened and clicked by its reader, one opened only
    by Apple's privacy proxy; a campaign id."""
    campaign_id, deliveries, (link_a, _) = await sent_campaign(db, recipients=4)
    await db.execute(text("UPDATE deliveries SET status = 'sending', sent_at = NULL"))
    outcomes = [delivery_queries.Outcome(d, "sent") for d in deliveries[:3]]
    outcomes.append(delivery_queries.Outcome(deliveries[3], "failed", error="550 5.1.1 unknown", bounced=True))
    await delivery_queries.record_outcomes(db, campaign_id, outcomes, cancelled_error="")
    later = datetime.now(UTC) + timedelta(minutes=1)
    await hits.apply(
        db,
        [
            hit("open", deliveries[0], THUNDERBIRD, at=later),
            hit("click", deliveries[0], CHROME, link_a, at=later + timedelta(minutes=1)),
            hit("open", deliveries[1], MPP, at=later),
        ],
    )
    await db.commit()
    return campaign_id


async def test_a_campaigns_analytics_is_one_row_per_day_with_human_opens_and_the_four_rates(db, api):
    campaign_id = await engaged_campaign(db)
    client = await api("viewer")

    response = client.get(f"/api/campaigns/{campaign_id}/analytics", params={"days": 7})
    assert response.status_code == 200, response.text
    days = response.json()
    assert len(days) == 7 and all(set(day) == DAY_KEYS for day in days)
    assert [day["emails_sent"] for day in days[:-1]] == [0] * 6
    today = days[-1]
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert datetime.fromisoformat(today["date"]) == midnight  # an RFC 3339 date-time: with its offset
    assert (today["emails_sent"], today["emails_delivered"], today["emails_bounced"]) == (3, 2, 1)
    assert (today["emails_opened"], today["emails_clicked"]) == (1, 1)  # the proxy's open left out
    assert (today["open_rate"], today["click_rate"], today["bounce_rate"]) == (50.0, 50.0, 33.33)
    assert today["unsubscribe_rate"] == 0.0
    assert len(client.get(f"/api/campaigns/{campaign_id}/analytics").json()) == 30  # the default


async def test_the_days_asked_for_are_checked_and_a_missing_campaign_is_404(db, api):
    campaign_id = await engaged_campaign(db)
    client = await api("viewer")
    for days in ("0", "731", "-3"):
        response = client.get(f"/api/campaigns/{campaign_id}/analytics", params={"days": days})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["days"]
    response = client.get(f"/api/campaigns/{campaign_id}/analytics", params={"days": "week"})
    assert response.status_code == 400 and "days" in response.text
    assert client.get("/api/campaigns/999999/analytics").status_code == 404
    assert client.get("/api/stats", headers={"Authorization": "Bearer nope"}).status_code == 401


async def test_stats_give_the_audience_campaigns_and_overall_rates(db, api):
    await engaged_campaign(db)
    await db.execute(text("UPDATE contacts SET status = 'unsubscribed' WHERE email = 'person3@example.com'"))
    cancelled = await ready_campaign(db, [])  # started, then cancelled: not a sent campaign
    await db.execute(
        text("UPDATE campaigns SET status = 'cancelled', started_at = now() WHERE id = :c"), {"c": cancelled.id}
    )
    await db.commit()
    stats = (await api("viewer")).get("/api/stats").json()
    assert (stats["total_contacts"], stats["active_contacts"]) == (4, 3)
    assert (stats["total_campaigns"], stats["sent_campaigns"]) == (2, 1)
    assert (stats["emails_sent"], stats["emails_opened"], stats["emails_clicked"]) == (3, 1, 1)
    assert (stats["overall_open_rate"], stats["overall_click_rate"], stats["overall_click_to_open_rate"]) == (
        50.0,
        50.0,
        100.0,
    )


async def test_every_contact_in_the_api_carries_its_email_stats(db, api):
    await engaged_campaign(db)
    client = await api("viewer")
    listed = {c["email"]: c for c in client.get("/api/contacts", params={"limit": 10}).json()["items"]}
    reader = listed["person0@example.com"]["email_stats"]
    assert (reader["emails_sent"], reader["emails_opened"], reader["emails_clicked"]) == (1, 1, 1)
    assert reader["last_opened"] and reader["last_clicked"]
    single = client.get(f"/api/contacts/{listed['person2@example.com']['id']}").json()
    assert single["email_stats"] == {
        "emails_sent": 1,
        "emails_opened": 0,
        "emails_clicked": 0,
        "last_opened": None,
        "last_clicked": None,
    }
