"""Resend to non-openers: a sent campaign's page makes a draft copy whose audience is a dynamic
segment of those the campaign reached who did not open it; sent, it reaches exactly them (and not
whoever opened meanwhile)."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.support.campaigns import audience, ready_campaign, sent_by_a_worker, smtp_server
from tests.support.smtp import SmtpSink
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.lists.models import EmailList


async def sent_to(db, size: int, opened: list[int]) -> Campaign:
    """A marketing campaign sent to person0..; the given ones opened it."""
    original = await ready_campaign(db, [(await audience(db, size)).id], name="Spring sale")
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at, opened_at)
                SELECT :c, id, email, 'sent', now(),
                       CASE WHEN email = ANY(:opened) THEN now() END FROM contacts"""),
        {"c": original.id, "opened": [f"person{i}@example.com" for i in opened]},
    )
    await db.execute(text("UPDATE campaigns SET status = 'sent' WHERE id = :c"), {"c": original.id})
    await db.commit()
    return original


async def test_a_sent_campaign_goes_again_only_to_those_who_did_not_open_it(staff, db, worker):
    editor = await staff("editor")
    original = await sent_to(db, 4, opened=[0])
    original_id, original_html = original.id, original.html_content
    page = editor.get(f"/campaigns/{original_id}").text
    assert "Resend to non-openers" in page

    response = editor.post(f"/campaigns/{original_id}/resend")
    copy = await db.scalar(select(Campaign).where(Campaign.id != original_id))
    assert copy is not None
    assert (response.status_code, response.headers["location"]) == (303, f"/campaigns/{copy.id}/details")
    assert (copy.name, copy.status, copy.html_content) == (
        "Spring sale (to non-openers)",
        "draft",
        original_html,
    )
    [segment_id] = await campaigns.list_ids_of(db, copy.id)
    segment = await db.get(EmailList, segment_id)
    assert segment is not None and segment.list_type == "dynamic"
    assert segment.name == f"Did not open #{original_id}: Spring sale" and segment.contact_count == 3

    await db.execute(text("UPDATE deliveries SET opened_at = now() WHERE email = 'person3@example.com'"))  # late
    await db.commit()
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await sent_by_a_worker(db, worker, copy.id)
    assert sorted(sink.handler.recipients()) == ["person1@example.com", "person2@example.com"]

    again = editor.post(f"/campaigns/{original_id}/resend")  # a second resend finds the same segment
    assert again.status_code == 303
    assert await db.scalar(select(EmailList.id).where(EmailList.name.like("Did not open%")).limit(2)) == segment_id
    assert len(list(await db.scalars(select(EmailList.id).where(EmailList.list_type == "dynamic")))) == 1


async def test_only_a_sent_campaign_is_resent_and_viewers_cannot(staff, db):
    editor, viewer = await staff("editor"), await staff("viewer")
    draft = await ready_campaign(db, [(await audience(db, 2)).id])
    await db.commit()
    assert "Resend to non-openers" not in editor.get(f"/campaigns/{draft.id}").text
    refused = editor.post(f"/campaigns/{draft.id}/resend")
    assert refused.status_code == 409 and "Only a sent campaign" in refused.text
    await db.execute(text("UPDATE campaigns SET status = 'sent' WHERE id = :c"), {"c": draft.id})
    await db.commit()
    assert viewer.post(f"/campaigns/{draft.id}/resend").status_code == 403
    assert await db.scalar(select(Campaign.id).where(Campaign.id != draft.id)) is None


async def test_the_api_resends_to_non_openers_and_says_why_not(api, db):
    client, viewer = await api("editor"), await api("viewer")
    original = await sent_to(db, 3, opened=[1])
    original_id = original.id
    copy = client.post(f"/api/campaigns/{original_id}/resend-to-non-openers")
    assert copy.status_code == 201, copy.text
    body = copy.json()
    assert (body["name"], body["status"]) == ("Spring sale (to non-openers)", "draft")
    segment = await db.get(EmailList, body["list_ids"][0])
    assert segment is not None and segment.contact_count == 2

    not_sent = client.post(f"/api/campaigns/{body['id']}/resend-to-non-openers")
    assert not_sent.status_code == 409 and "Only a sent campaign" in not_sent.json()["detail"]
    assert not_sent.json()["errors"][0]["field"] == "status"
    assert client.post("/api/campaigns/999999/resend-to-non-openers").status_code == 404
    assert viewer.post(f"/api/campaigns/{original_id}/resend-to-non-openers").status_code == 403
