"""Every route into sending runs the same readiness check: send now, schedule, resume (only from
paused), and the scheduler's start of a due campaign; the organisation's name and postal address
and a non-empty audience are part of it. Cancel works while sending and ends the unsent rows."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from tests.support.campaigns import HTML, audience, delivery_counts, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.contacts.models import Contact
from webapp.lists.models import EmailList, ListMember
from webapp.settings.service import organisation as org_settings

NO_ORG = org_settings.OrgSettings()


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.text))


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def status_of(db, campaign_id: int) -> str:
    db.expire_all()
    return await db.scalar(select(Campaign.status).where(Campaign.id == campaign_id))


async def draft_without_organisation(db) -> int:
    """Subject, from, content and a list of people: everything but the organisation's details."""
    email_list = await audience(db, 3)
    c = await campaigns.create_campaign(
        db,
        {
            "name": "No sender",
            "subject": "Hello",
            "from_email": "news@example.com",
            "html_content": HTML,
            "list_ids": [email_list.id],
        },
        created_by="t",
    )
    await db.commit()
    return c.id


async def test_review_blocks_send_and_schedule_without_the_organisations_name_and_address(staff, db):
    editor = await staff("editor")
    campaign_id = await draft_without_organisation(db)

    review = page_text(editor.get(f"/campaigns/{campaign_id}/review"))
    assert "Before this can go out" in review
    problems = re.search(r'class="error-summary review-problems".*?</div>', review).group(0)
    assert "organisation's name" in problems and "postal address" in problems
    assert problems.count('href="/settings/organisation"') == 2 and "Settings → Organisation" in problems
    assert re.search(r'<button type="submit" class="primary" disabled>Send now', review)
    assert re.search(r"<button type=\"submit\" disabled>Schedule</button>", review)
    warnings = re.search(r'class="review-warnings".*?</div>', review).group(0)
    assert "organisation" not in warnings  # blocking, not only worth a second look

    refused = editor.post(f"/campaigns/{campaign_id}/send")
    assert refused.status_code == 422 and "postal address" in page_text(refused)
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    scheduled = editor.post(f"/campaigns/{campaign_id}/schedule", data={"scheduled_time": later, "timezone": "UTC"})
    assert scheduled.status_code == 422 and "postal address" in page_text(scheduled)
    assert await status_of(db, campaign_id) == "draft"


async def test_the_api_refuses_send_and_schedule_naming_the_missing_organisation_details(api, db):
    client = await api("editor")
    campaign_id = await draft_without_organisation(db)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    for path, body in (("send", None), ("schedule", {"scheduled_time": later})):
        response = client.post(f"/api/campaigns/{campaign_id}/{path}", json=body)
        assert response.status_code == 422, (path, response.text)
        assert set(fields(response)) == {"organisation_name", "postal_address"}, path
        assert "Settings → Organisation" in fields(response)["postal_address"]
    assert await status_of(db, campaign_id) == "draft"

    await org_settings.save(db, org_settings.OrgSettings(organisation_name="Acme", postal_address="1 Main St"))
    await db.commit()
    assert client.post(f"/api/campaigns/{campaign_id}/send").status_code == 202


async def test_content_that_fails_to_render_is_named_with_every_other_problem_at_once(api, db):
    """Rendering for the sample contact runs before the readiness check: its failure is one problem
    among the others, each under the field it is in, not the only one named."""
    client = await api("editor")
    campaign_id = await draft_without_organisation(db)
    c = await campaigns.update_campaign(db, campaign_id, {"subject": "Hi {{ 1 / 0 }}"})
    await db.commit()

    response = client.post(f"/api/campaigns/{c.id}/send")
    assert response.status_code == 422, response.text
    assert set(fields(response)) == {"subject", "organisation_name", "postal_address"}
    assert "division by zero" in fields(response)["subject"]
    assert await status_of(db, campaign_id) == "draft"


async def test_an_audience_with_nobody_to_send_to_is_refused_with_the_reason(api, staff, db):
    client, editor = await api("editor"), await staff("editor")
    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id])
    await db.execute(text("UPDATE contacts SET status = 'unsubscribed'"))
    await db.commit()

    sent = client.post(f"/api/campaigns/{c.id}/send")
    assert sent.status_code == 422 and "Nobody" in fields(sent)["list_ids"]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    scheduled = client.post(f"/api/campaigns/{c.id}/schedule", json={"scheduled_time": later})
    assert scheduled.status_code == 422 and set(fields(scheduled)) == {"list_ids"}
    review = page_text(editor.get(f"/campaigns/{c.id}/review"))
    assert re.search(rf'Nobody [^<]*<a href="/campaigns/{c.id}/audience">', review)
    assert await status_of(db, c.id) == "draft"


async def test_resume_is_only_for_paused_campaigns_and_checks_readiness_again(api, db):
    client = await api("editor")
    empty = client.post("/api/campaigns", json={"name": "Empty"}).json()
    resumed = client.post(f"/api/campaigns/{empty['id']}/resume")
    assert resumed.status_code == 409 and "paused" in resumed.json()["detail"]
    assert await status_of(db, empty["id"]) == "draft"

    email_list = await audience(db, 2)
    c = await ready_campaign(db, [email_list.id])
    await db.commit()
    assert client.post(f"/api/campaigns/{c.id}/resume").status_code == 409  # a ready draft is sent, not resumed
    assert client.post(f"/api/campaigns/{c.id}/send").status_code == 202
    assert client.post(f"/api/campaigns/{c.id}/pause").status_code == 200
    await org_settings.save(db, NO_ORG)
    await db.commit()
    refused = client.post(f"/api/campaigns/{c.id}/resume")
    assert refused.status_code == 422 and {"organisation_name", "postal_address"} <= set(fields(refused))
    assert await status_of(db, c.id) == "paused"


async def test_cancel_while_sending_ends_every_unsent_delivery(api, staff, db):
    client, editor = await api("editor"), await staff("editor")
    email_list = await audience(db, 6)
    c = await ready_campaign(db, [email_list.id])
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status)
                SELECT :c, id, email, CASE WHEN id <= 2 THEN 'sent' WHEN id = 3 THEN 'sending' ELSE 'pending' END
                FROM contacts ORDER BY id"""),
        {"c": c.id},
    )
    c.status, c.materialised_at, c.total_recipients = "sending", datetime.now(UTC), 6
    await db.commit()

    page = page_text(editor.get(f"/campaigns/{c.id}"))
    assert ">Cancel campaign<" in page
    cancelled = client.post(f"/api/campaigns/{c.id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["completed_time"]
    # Pending rows end at once; the one a worker holds is that worker's to record.
    assert await delivery_counts(db, c.id) == {"sent": 2, "sending": 1, "cancelled": 3}
    assert client.post(f"/api/campaigns/{c.id}/resume").status_code == 409


async def test_a_failed_campaign_that_never_started_can_be_edited_back_to_draft(staff, db):
    editor = await staff("editor")
    email_list = await audience(db, 2)
    never_started = await ready_campaign(db, [email_list.id], name="Never started")
    half_sent = await ready_campaign(db, [email_list.id], name="Half sent")
    for c in (never_started, half_sent):
        c.status, c.status_reason, c.scheduled_at = "failed", "Nothing was sent. ...", datetime.now(UTC)
    half_sent.materialised_at = datetime.now(UTC)
    ids = never_started.id, half_sent.id
    await db.commit()

    page = page_text(editor.get(f"/campaigns/{ids[0]}"))
    assert ">Edit<" in page and "<strong>Failed:</strong> Nothing was sent." in page
    assert ">Edit<" not in page_text(editor.get(f"/campaigns/{ids[1]}"))
    edited = editor.post(f"/campaigns/{ids[0]}/edit")
    assert edited.status_code == 303 and edited.headers["location"] == f"/campaigns/{ids[0]}/details"
    db.expire_all()
    c = await db.get(Campaign, ids[0])
    assert (c.status, c.status_reason, c.scheduled_at, c.completed_at) == ("draft", "", None, None)
    assert editor.post(f"/campaigns/{ids[1]}/edit").status_code == 409  # some were sent: duplicate it
    assert await status_of(db, ids[1]) == "failed"


class SlowHandler:
    """Takes each message after a short pause, so a send is still going when it is cancelled."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def handle_RCPT(self, *args):
        return await self.inner.handle_RCPT(*args)

    async def handle_DATA(self, *args):
        await asyncio.sleep(0.05)
        return await self.inner.handle_DATA(*args)


async def test_a_cancelled_send_stops_and_leaves_no_delivery_unfinished(db, worker):
    size = 2000
    with SmtpSink() as sink:
        sink.controller.handler = SlowHandler(sink.handler)
        email_list = await audience(db, size)
        await smtp_server(db, sink.port)
        campaign_id = (await ready_campaign(db, [email_list.id])).id
        await campaigns.send_now(db, campaign_id)
        await db.commit()
        worker()
        for _ in range(600):
            db.expire_all()
            if (await db.get(Campaign, campaign_id)).sent_count >= 50:
                break
            await asyncio.sleep(0.1)
        await campaigns.cancel(db, campaign_id)
        await db.commit()
        for _ in range(300):  # the batches already claimed finish
            if "sending" not in await delivery_counts(db, campaign_id):
                break
            await asyncio.sleep(0.1)
        received = len(sink.messages)
        await asyncio.sleep(2)
        assert len(sink.messages) == received < size

    counts = await delivery_counts(db, campaign_id)
    assert set(counts) == {"sent", "cancelled"}, counts
    assert counts["sent"] == received and counts["sent"] + counts["cancelled"] == size
    assert await status_of(db, campaign_id) == "cancelled"


async def test_a_due_campaign_that_is_no_longer_ready_fails_with_the_reason_and_sends_nothing(db, worker):
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        people = await audience(db, 3, name="People")
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        no_address = (await ready_campaign(db, [people.id], name="No address")).id
        await campaigns.schedule(db, no_address, later)
        nobody_list = EmailList(name="Left")
        gone = Contact(email="gone@example.com", status="unsubscribed")
        db.add_all([nobody_list, gone])
        await db.flush()
        db.add(ListMember(list_id=nobody_list.id, contact_id=gone.id))
        emptied = (await ready_campaign(db, [nobody_list.id], name="Emptied")).id
        # The organisation's address is removed after scheduling, and the time comes.
        organisation = await org_settings.load(db)
        await org_settings.save(db, org_settings.OrgSettings(organisation_name="Mailroom Tests Ltd"))
        await db.execute(text("UPDATE campaigns SET scheduled_at = now() WHERE id = :c"), {"c": no_address})
        await db.commit()
        worker()
        failed = await wait_for_status(db, no_address, {"failed", "sending", "sent"})
        assert failed.status == "failed" and "postal address" in failed.status_reason
        assert "Nothing was sent" in failed.status_reason

        # Sending bypassing the checks, as a campaign whose audience emptied after "Send now" would.
        await org_settings.save(db, organisation)
        await db.execute(text("UPDATE campaigns SET status = 'sending' WHERE id = :c"), {"c": emptied})
        await db.commit()
        nobody = await wait_for_status(db, emptied, {"failed", "sent"})
        assert nobody.status == "failed" and "Nobody" in nobody.status_reason
        await asyncio.sleep(1)
        assert sink.messages == []
    assert await db.scalar(text("SELECT count(*) FROM deliveries")) == 0


def test_dmarc_alignment_is_relaxed_a_subdomain_either_way_but_never_another_domain():
    from webapp.settings.service.organisation import domains_align

    assert domains_align("example.com", "mail.example.com") and domains_align("News.Example.com.", "example.com")
    assert not domains_align("example.com", "esp.example.net")
    assert not domains_align("example.com", "badexample.com")
