"""Campaigns and automation emails sent by real workers through an API provider: each delivery
records the provider that took it, a throttled provider holds messages back without failing them,
and a request cut off after it went leaves its automation emails in doubt, never sent twice."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text

from tests.integration.test_automation_mail import all_finished, until
from tests.support.automation_mail import email_step_run, statuses
from tests.support.campaigns import audience, delivery_counts, ready_campaign, sent_by_a_worker
from tests.support.esp_apis import DROP, Reply, add_provider, esp_api
from webapp.campaigns.service import campaigns


async def test_a_campaign_goes_through_a_provider_and_each_delivery_names_it(db, worker) -> None:
    with esp_api("postmark") as api:
        provider_id = (await add_provider(db, api, batch_size=25)).id
        email_list = await audience(db, 60)
        campaign = await ready_campaign(db, [email_list.id])
        done = await sent_by_a_worker(db, worker, campaign.id)

    assert done.sent_count == 60 and await delivery_counts(db, campaign.id) == {"sent": 60}
    assert Counter(api.recipients()) == Counter(f"person{i}@example.com" for i in range(60))
    assert api.send_requests < 60, "messages sent together share a request"
    named = await db.execute(text("SELECT DISTINCT provider_id, smtp_server_id FROM deliveries"))
    assert named.all() == [(provider_id, None)]
    message = next(t for t in api.taken if t.recipient == "person7@example.com")
    assert message.subject == "Hello Person7" and "/u/unsubscribe/" in message.headers["List-Unsubscribe"]


async def test_a_throttled_provider_holds_messages_back_without_failing_them(db, worker) -> None:
    with esp_api("sendgrid") as api:
        api.replies.append(Reply(429, {"errors": [{"message": "too many requests"}]}, {"Retry-After": "3600"}))
        await add_provider(db, api, batch_size=1, max_connections=1)
        email_list = await audience(db, 1)
        campaign = await ready_campaign(db, [email_list.id])
        await campaigns.send_now(db, campaign.id)
        await db.commit()
        worker()

        async def held_back() -> bool:
            later = "next_attempt_at > now() + interval '50 minutes'"
            row = (await db.execute(text(f"SELECT status, {later} AS later FROM deliveries"))).one_or_none()
            await db.commit()
            return row is not None and row.status == "pending" and row.later

        await until(held_back, what="the message held back for the provider's hour")

    campaign_row = (await db.execute(text("SELECT status, failed_count FROM campaigns"))).one()
    assert campaign_row == ("sending", 0)
    assert api.taken == []
    last_error = await db.scalar(text("SELECT last_error FROM providers"))
    assert "throttling" in last_error and "429" in last_error, "admins see why on the Providers page"


async def test_an_automation_email_cut_off_after_its_request_went_is_in_doubt(db, worker) -> None:
    queued = await email_step_run(db, 1)
    with esp_api("mailgun") as first, esp_api("postmark") as second:
        first.replies.append(DROP)
        await add_provider(db, first, priority=0)
        await add_provider(db, second, priority=1)
        worker("provider-cut-off")
        await all_finished(db)

    assert first.recipients() == sorted(queued.emails)
    assert second.taken == [], "a message the first provider may have kept goes nowhere else"
    assert await statuses(db) == {"in_doubt": 1}
