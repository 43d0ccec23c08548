"""Complaint and bounce rates: a warning over 0.1 %, a pause from 0.3 % once enough messages were
delivered, shown on the campaign's page, in feedback.service.alerts, and on Settings -> Bounces and
complaints (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.integration.test_feedback_record import campaign, record, sent_campaign
from webapp.feedback import service as feedback
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.feedback.service import rules


async def sending_campaign(db, sent: int) -> tuple[int, list]:
    """A campaign still sending that has handed `sent` messages over; three of its recipients are rows."""
    campaign_id, deliveries = await sent_campaign(db)
    await db.execute(
        text("UPDATE campaigns SET status = 'sending', sent_count = :n, started_at = now() WHERE id = :c"),
        {"c": campaign_id, "n": sent},
    )
    await db.commit()
    return campaign_id, deliveries


def complaints(deliveries: list, how_many: int) -> list[FeedbackEvent]:
    return [
        FeedbackEvent(
            source=FeedbackSource.SENDGRID,
            source_id=f"c{d.id}",
            kind=FeedbackKind.COMPLAINED,
            email=d.email,
            at=datetime.now(UTC),
            message_id=d.message_id,
        )
        for d in deliveries[:how_many]
    ]


@pytest.mark.parametrize(("delivered", "status"), [(999, "sending"), (1000, "paused")])
async def test_three_complaints_per_thousand_pause_only_from_a_thousand_delivered(db, delivered, status):
    campaign_id, deliveries = await sending_campaign(db, delivered)

    recorded = await record(db, complaints(deliveries, 3))

    found = await campaign(db, campaign_id)
    assert found.status == status
    assert recorded.paused == ([campaign_id] if status == "paused" else [])
    if status == "paused":
        assert found.status_reason.startswith("Paused automatically: the complaint rate reached 0.30 %")
        assert "3 complaints in 1,000 delivered messages" in found.status_reason
    [alert] = [a for a in await feedback.alerts(db) if a.campaign_id == campaign_id]
    assert alert.severe == (status == "paused")


async def test_two_complaints_per_thousand_warn_and_keep_sending(db):
    campaign_id, deliveries = await sending_campaign(db, 1000)

    await record(db, complaints(deliveries, 2))

    assert (await campaign(db, campaign_id)).status == "sending"
    alerts = await feedback.alerts(db)
    assert [(a.campaign_id, a.severe) for a in alerts if a.campaign_id] == [(campaign_id, False)]
    [domain] = [a for a in alerts if a.campaign_id is None]
    assert domain.subject == "example.com" and "0.20 %, 2 complaints in 1,000 delivered messages" in domain.message


async def test_one_complaint_in_twenty_warns_and_does_not_pause(db):
    campaign_id, deliveries = await sending_campaign(db, 20)

    await record(db, complaints(deliveries, 1))

    assert (await campaign(db, campaign_id)).status == "sending"
    assert [a.campaign_id for a in await feedback.alerts(db) if a.campaign_id] == [campaign_id]


async def test_a_few_delivery_reports_do_not_shrink_the_delivered_a_rate_is_of(db):
    campaign_id, deliveries = await sending_campaign(db, 2000)
    await db.execute(text("UPDATE campaigns SET delivered_count = 1 WHERE id = :c"), {"c": campaign_id})
    await db.commit()  # one provider report of delivery arrived so far: the other 1,999 were handed over too

    await record(db, complaints(deliveries, 1))

    assert (await campaign(db, campaign_id)).status == "sending"
    assert await feedback.alerts(db) == [], "1 complaint in 2,000 delivered is under 0.1 %, not 100 %"


async def test_a_rate_under_the_warning_threshold_raises_nothing(db):
    campaign_id, deliveries = await sending_campaign(db, 2000)
    await record(db, complaints(deliveries, 2))  # 0.1 % exactly: not over it
    assert (await campaign(db, campaign_id)).status == "sending"
    assert await feedback.alerts(db) == []


async def test_the_campaign_page_warns_about_its_complaint_rate(db, staff):
    campaign_id, deliveries = await sending_campaign(db, 20)
    client = await staff("viewer")
    assert "High complaint rate" not in client.get(f"/campaigns/{campaign_id}").text

    await record(db, complaints(deliveries, 1))

    page = client.get(f"/campaigns/{campaign_id}").text
    assert "High complaint rate:" in page and "(5.00 %)" in page


async def test_the_dashboard_lists_the_campaign_and_domain_over_the_warning_rate(db, staff):
    campaign_id, deliveries = await sending_campaign(db, 20)
    client = await staff("viewer")
    assert "No complaint rate needs attention." in client.get("/").text

    await record(db, complaints(deliveries, 1))

    page = client.get("/").text
    assert "No complaint rate needs attention." not in page
    assert "5.00 %, 1 complaint in 20 delivered messages" in page
    assert f'href="/campaigns/{campaign_id}/report"' in page.split('id="alerts-heading"')[1]
    assert "<strong>example.com</strong>" in page


async def test_the_settings_page_is_for_admins_and_reports_errors_next_to_fields(db, staff):
    editor = await staff("editor")
    assert editor.get("/settings/bounces").status_code == 403
    assert editor.post("/settings/bounces", data={"soft_bounce_limit": "5"}).status_code == 403

    admin = await staff("admin")
    page = admin.get("/settings/bounces").text
    assert 'id="soft_bounce_limit" name="soft_bounce_limit" type="number" value="3"' in page

    bad = admin.post(
        "/settings/bounces", data={"soft_bounce_limit": "0", "soft_bounce_days": "7", "soft_bounce_action": "x"}
    )
    assert bad.status_code == 422
    assert 'id="soft_bounce_limit-error">Soft bounces must be between 1 and 100.' in bad.text
    assert "Choose what happens: none, unsubscribe, suppress or delete." in bad.text
    assert await rules.load(db) == rules.BounceRules()

    saved = admin.post(
        "/settings/bounces", data={"soft_bounce_limit": "5", "soft_bounce_days": "14", "soft_bounce_action": "delete"}
    )
    assert saved.status_code == 303
    assert await rules.load(db) == rules.BounceRules(5, 14, "delete")


async def test_the_settings_form_needs_its_csrf_token(db, staff):
    admin = await staff("admin")
    admin.get("/settings/bounces")
    refused = admin.post("/settings/bounces", data={"soft_bounce_limit": "5"}, headers={"x-csrftoken": "forged"})
    assert refused.status_code == 403
    assert await rules.load(db) == rules.BounceRules()
