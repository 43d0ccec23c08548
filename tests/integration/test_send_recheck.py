"""Recipients are written down when a send starts, but whether each may still be mailed is checked
again when a worker claims them: a contact who unsubscribes, bounces, complains, is suppressed,
deactivated, erased or deleted while the campaign is sending gets nothing, and is counted as
skipped (not failed) on the campaign page and in the API."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from tests.support.campaigns import audience, delivery_counts, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns, sending
from webapp.core.tokens import make_token
from webapp.suppression.service import gdpr, suppression

SIZE = 60
GONE = {
    10: "unsubscribed (one-click, from last week's campaign)",
    11: "bounced",
    12: "complained",
    13: "suppressed",
    14: "deactivated",
    15: "erased",
    16: "deleted",
}


async def _contact_id(db, number: int) -> int:
    return await db.scalar(text("SELECT id FROM contacts WHERE email = :e"), {"e": f"person{number}@example.com"})


async def test_contacts_no_longer_mailable_when_their_turn_comes_are_skipped_not_sent(db, worker, api, staff):
    viewer_api, page_client = await api("viewer"), await staff("viewer")
    with SmtpSink() as sink:
        email_list = await audience(db, SIZE)
        await smtp_server(db, sink.port)
        last_week = await ready_campaign(db, [email_list.id], name="Last week")
        last_weeks_message = await db.scalar(
            text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                    SELECT :c, id, email, 'sent', now() FROM contacts WHERE email = 'person10@example.com'
                    RETURNING id"""),
            {"c": last_week.id},
        )
        campaign = await ready_campaign(db, [email_list.id])
        await campaigns.send_now(db, campaign.id)
        await sending.begin(db, campaign.id)  # the recipients are written down: the send has started
        await db.commit()

        one_click = httpx.post(
            f"{viewer_api.base_url}/u/unsubscribe/{make_token('unsubscribe', last_weeks_message)}",
            data={"List-Unsubscribe": "One-Click"},
        )
        assert one_click.status_code == 200
        await db.execute(text("UPDATE contacts SET status = 'bounced' WHERE email = 'person11@example.com'"))
        await db.execute(text("UPDATE contacts SET status = 'complained' WHERE email = 'person12@example.com'"))
        await suppression.add(db, "PERSON13@example.com", "manual", note="asked by phone")
        await db.execute(text("UPDATE contacts SET is_active = false WHERE email = 'person14@example.com'"))
        await gdpr.erase_contact(db, await _contact_id(db, 15), "tests")
        await db.execute(text("DELETE FROM contacts WHERE email = 'person16@example.com'"))
        await db.commit()

        worker()
        done = await wait_for_status(db, campaign.id, {"sent"})

    received = sorted(sink.handler.recipients())
    assert received == sorted(f"person{i}@example.com" for i in range(SIZE) if i not in GONE)
    assert (done.sent_count, done.failed_count, done.skipped_count) == (SIZE - len(GONE), 0, len(GONE))
    assert await delivery_counts(db, campaign.id) == {"sent": SIZE - len(GONE), "skipped": len(GONE)}
    reasons = await db.scalars(
        text("SELECT error_message FROM deliveries WHERE status = 'skipped' AND campaign_id = :c"), {"c": campaign.id}
    )
    assert all(reason.startswith("Not sent:") for reason in reasons)
    assert await db.scalar(text("SELECT count(*) FROM contacts WHERE status = 'bounced'")) == 1  # nobody new

    shown = viewer_api.get(f"/api/campaigns/{campaign.id}").json()
    assert (shown["sent_count"], shown["failed_count"], shown["skipped_count"]) == (SIZE - 7, 0, 7)
    skipped = viewer_api.get(f"/api/campaigns/{campaign.id}/emails", params={"status": "skipped"}).json()["items"]
    assert len(skipped) == len(GONE) and all(e["status"] == "skipped" for e in skipped)
    page = page_client.get(f"/campaigns/{campaign.id}").text
    assert 'class="progress-skipped">7<' in page
