"""JSON API /api/campaigns against the real server: seed 000's Campaign and Email shapes, the
state machine's 409s, readiness as a 422 naming fields, scheduling in a time zone, and pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select, text

from tests.support.campaigns import HTML, audience
from webapp.campaigns.models import Campaign
from webapp.settings.service import organisation as org_settings
from webapp.templates.models import EmailTemplate

CAMPAIGN_KEYS = {
    "id",
    "name",
    "subject",
    "from_email",
    "from_name",
    "reply_to",
    "template_id",
    "list_ids",
    "status",
    "status_reason",
    "scheduled_time",
    "timezone",
    "sent_time",
    "completed_time",
    "total_recipients",
    "sent_count",
    "delivered_count",
    "failed_count",
    "opened_count",
    "clicked_count",
    "bounced_count",
    "unsubscribed_count",
    "complained_count",
    "skipped_count",
    "open_rate",
    "click_rate",
    "bounce_rate",
    "unsubscribe_rate",
    "settings",
    "created_by",
    "created_at",
    "updated_at",
}
EMAIL_KEYS = {
    "id",
    "campaign_id",
    "contact_id",
    "to_email",
    "from_email",
    "subject",
    "status",
    "sent_time",
    "opened_time",
    "clicked_time",
    "bounced_time",
    "unsubscribed_time",
    "error_message",
    "created_at",
    "updated_at",
}
SEED_SETTINGS = {"track_opens": True, "track_clicks": True, "unsubscribe_link": True, "suppress_duplicates": True}
SETTINGS = {**SEED_SETTINGS, "web_version_link": False, "archive": False}  # the seed's, and two added (off)


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


def seed_campaign(list_ids: list[int], **changes) -> dict:
    return {
        "name": "Summer Sale Campaign",
        "subject": "Summer Sale - {{first_name}}!",
        "from_email": "marketing@example.com",
        "from_name": "Marketing Team",
        "reply_to": "support@example.com",
        "html_content": HTML,
        "list_ids": list_ids,
        "settings": SEED_SETTINGS,
        **changes,
    }


async def test_create_get_and_list_in_the_seed_shape(api, db):
    client = await api("editor")
    email_list = await audience(db, 3)
    template = EmailTemplate(name="T", subject="From the template", html_content="<p>Template {{ first_name }}</p>")
    db.add(template)
    await db.commit()

    created = client.post("/api/campaigns", json=seed_campaign([email_list.id]))
    assert created.status_code == 201, created.text
    body = created.json()
    content = {"content_format", "markdown_content", "html_content", "text_content"}
    assert set(body) == CAMPAIGN_KEYS | content | {"ab_test_id", "variants"}
    assert (body["ab_test_id"], body["variants"]) == (None, [])  # no A/B test (test_api_ab_tests.py)
    assert body["status"] == "draft" and body["list_ids"] == [email_list.id] and body["settings"] == SETTINGS
    assert body["created_by"] == "api:test editor" and body["open_rate"] == 0.0 and body["scheduled_time"] is None
    assert client.get(f"/api/campaigns/{body['id']}").json() == body

    from_template = client.post(
        "/api/campaigns",
        json={"name": "From a template", "template_id": template.id, "settings": {"track_clicks": False}},
    ).json()
    assert from_template["html_content"] == "<p>Template {{ first_name }}</p>"
    assert from_template["subject"] == "From the template" and from_template["list_ids"] == []
    assert from_template["settings"] == {**SETTINGS, "track_clicks": False}

    page = client.get("/api/campaigns").json()
    assert [c["name"] for c in page["items"]] == ["From a template", "Summer Sale Campaign"]
    assert set(page["items"][0]) == CAMPAIGN_KEYS and page["next_cursor"] is None
    assert client.get("/api/campaigns?created_by=api:test%20editor&status=draft").json()["items"][1]["id"] == body["id"]
    assert client.get("/api/campaigns?status=sent").json()["items"] == []


async def test_pages_follow_the_cursor(api, db):
    client = await api("viewer")
    await db.execute(
        text(
            "INSERT INTO campaigns (name, created_at) "
            "SELECT 'C' || i, now() - make_interval(secs => i) FROM generate_series(1, 5) i"
        )
    )
    await db.commit()
    seen, cursor = [], None
    while True:
        page = client.get("/api/campaigns", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["name"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["C1", "C2", "C3", "C4", "C5"]
    garbage = client.get("/api/campaigns?cursor=garbage")
    assert garbage.status_code == 400 and garbage.json()["errors"][0]["field"] == "cursor"


async def test_rates_are_percentages_of_messages_sent(api, db):
    client = await api("viewer")
    db.add(
        Campaign(
            name="Done",
            status="sent",
            total_recipients=2000,
            sent_count=2000,
            opened_count=780,
            clicked_count=156,
            bounced_count=50,
            unsubscribed_count=10,
        )
    )
    await db.commit()
    body = client.get("/api/campaigns").json()["items"][0]
    assert (body["open_rate"], body["click_rate"], body["bounce_rate"], body["unsubscribe_rate"]) == (
        39.0,
        7.8,
        2.5,
        0.5,
    )


async def test_errors_name_the_field(api, db):
    client = await api("editor")
    assert fields(client.post("/api/campaigns", json={"subject": "x"})) == {
        "name": "Object missing required field `name`"
    }
    wrong_type = client.post("/api/campaigns", json={"name": "x", "list_ids": "1"})
    assert wrong_type.status_code == 400 and "list_ids" in fields(wrong_type)
    settings_list = client.post("/api/campaigns", json={"name": "x", "settings": [None]})
    assert settings_list.status_code == 400 and "settings" in fields(settings_list)
    unknown = client.post("/api/campaigns", json={"name": "x", "colour": "red", "settings": {"track_everything": True}})
    assert unknown.status_code == 422 and set(fields(unknown)) == {"colour", "settings.track_everything"}
    bad = client.post(
        "/api/campaigns",
        json={"name": "x", "from_email": "nope", "html_content": "{% if %}", "list_ids": [424242], "template_id": 99},
    )
    assert bad.status_code == 422 and {"from_email", "html_content"} <= set(fields(bad))
    assert fields(client.post("/api/campaigns", json={"name": "x", "list_ids": [424242]})) == {
        "list_ids": "Unknown list ids: 424242."
    }
    two_lines = client.post(
        "/api/campaigns", json={"name": "x", "subject": "Hi\r\nBcc: a@example.com", "from_name": "A\nB"}
    )
    assert two_lines.status_code == 422 and fields(two_lines) == {
        "subject": "Subject must be on one line.",
        "from_name": "From name must be on one line.",
    }
    nul = client.post("/api/campaigns", json={"name": "x", "html_content": "a\u0000b"})
    assert nul.status_code == 422 and "NUL" in fields(nul)["html_content"]
    assert client.post("/api/campaigns", json={"name": "x", "template_id": 2**70}).status_code == 400
    assert client.get("/api/campaigns/999").status_code == 404
    assert client.get("/api/campaigns?status=nope").status_code == 400
    assert await db.scalar(select(Campaign.id)) is None


async def test_send_needs_a_ready_campaign_and_follows_the_state_machine(api, db):
    client = await api("editor")
    email_list = await audience(db, 2)
    await db.commit()
    empty = client.post("/api/campaigns", json={"name": "Empty"}).json()
    not_ready = client.post(f"/api/campaigns/{empty['id']}/send")
    assert not_ready.status_code == 422
    assert set(fields(not_ready)) == {
        "subject",
        "from_email",
        "html_content",
        "list_ids",
        "organisation_name",
        "postal_address",
    }
    await org_settings.save(db, org_settings.OrgSettings(organisation_name="Acme", postal_address="1 Main St"))
    await db.commit()

    c = client.post("/api/campaigns", json=seed_campaign([email_list.id])).json()
    sent = client.post(f"/api/campaigns/{c['id']}/send")
    assert sent.status_code == 202 and sent.json()["status"] == "sending" and sent.json()["sent_time"]
    again = client.post(f"/api/campaigns/{c['id']}/send")
    assert again.status_code == 409
    assert again.json()["detail"] == "This campaign is sending already."
    edit = client.put(f"/api/campaigns/{c['id']}", json={"subject": "Changed"})
    assert edit.status_code == 409 and "cannot be edited" in edit.json()["detail"]

    assert client.post(f"/api/campaigns/{c['id']}/pause").json()["status"] == "paused"
    assert client.post(f"/api/campaigns/{c['id']}/resume").json()["status"] == "sending"
    assert client.post(f"/api/campaigns/{c['id']}/pause").status_code == 200
    cancelled = client.post(f"/api/campaigns/{c['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["completed_time"]
    assert client.post(f"/api/campaigns/{c['id']}/resume").status_code == 409
    assert client.post(f"/api/campaigns/{empty['id']}/pause").status_code == 409

    copy = client.post(f"/api/campaigns/{c['id']}/duplicate")
    assert copy.status_code == 201
    assert (copy.json()["status"], copy.json()["name"], copy.json()["list_ids"]) == (
        "draft",
        "Copy of Summer Sale Campaign",
        [email_list.id],
    )
    assert client.delete(f"/api/campaigns/{copy.json()['id']}").status_code == 204
    assert client.delete(f"/api/campaigns/{c['id']}").status_code == 204  # cancelled campaigns can go
    assert client.get(f"/api/campaigns/{c['id']}").status_code == 404


async def test_put_changes_only_what_is_sent(api, db):
    client = await api("editor")
    c = client.post(
        "/api/campaigns", json={"name": "Draft", "subject": "Hi", "settings": {"track_opens": False}}
    ).json()
    changed = client.put(f"/api/campaigns/{c['id']}", json={"name": "Renamed", "settings": {"track_clicks": False}})
    assert changed.status_code == 200
    body = changed.json()
    assert (body["name"], body["subject"]) == ("Renamed", "Hi")
    assert body["settings"] == {**SETTINGS, "track_opens": False, "track_clicks": False}
    assert client.put(f"/api/campaigns/{c['id']}", json={"name": ""}).status_code == 422
    assert client.put(f"/api/campaigns/{c['id']}", json={"nmae": "typo"}).status_code == 422


async def test_schedule_reads_a_naive_time_in_the_given_zone(api, db):
    client = await api("editor")
    email_list = await audience(db, 2)
    await org_settings.save(db, org_settings.OrgSettings(organisation_name="Acme", postal_address="1 Main St"))
    await db.commit()
    c = client.post("/api/campaigns", json=seed_campaign([email_list.id])).json()
    year = datetime.now().year + 1
    madrid = client.post(
        f"/api/campaigns/{c['id']}/schedule",
        json={"scheduled_time": f"{year}-01-15T10:00:00", "timezone": "Europe/Madrid"},
    )
    assert madrid.status_code == 200, madrid.text
    assert datetime.fromisoformat(madrid.json()["scheduled_time"]) == datetime(year, 1, 15, 9, 0, tzinfo=UTC)
    assert (madrid.json()["status"], madrid.json()["timezone"]) == ("scheduled", "Europe/Madrid")

    utc = client.post(f"/api/campaigns/{c['id']}/schedule", json={"scheduled_time": f"{year}-01-15T10:00:00"}).json()
    assert datetime.fromisoformat(utc["scheduled_time"]) == datetime(year, 1, 15, 10, 0, tzinfo=UTC)
    offset = client.post(f"/api/campaigns/{c['id']}/schedule", json={"scheduled_time": f"{year}-01-15T10:00:00+05:00"})
    assert datetime.fromisoformat(offset.json()["scheduled_time"]) == datetime(year, 1, 15, 5, 0, tzinfo=UTC)

    for body, field in (
        ({"scheduled_time": "2020-01-01T00:00:00"}, "scheduled_time"),
        ({"scheduled_time": "next tuesday"}, "scheduled_time"),
        ({"scheduled_time": f"{year}-01-15T10:00", "timezone": "Atlantis/Capital"}, "timezone"),
    ):
        response = client.post(f"/api/campaigns/{c['id']}/schedule", json=body)
        assert response.status_code == 422 and field in fields(response), body
    assert client.post(f"/api/campaigns/{c['id']}/schedule", json={}).status_code == 400
    unscheduled = client.put(f"/api/campaigns/{c['id']}", json={"subject": "Scheduled ones can change"})
    assert unscheduled.status_code == 200 and unscheduled.json()["status"] == "scheduled"


async def test_emails_in_the_seed_shape_personalised_with_status_filter_and_pages(api, db):
    client = await api("viewer")
    await audience(db, 5)
    await org_settings.save(db, org_settings.OrgSettings(organisation_name="Acme", postal_address="1 Main St"))
    c = Campaign(
        name="Sent", subject="Hi {{ first_name }}", from_email="news@example.com", html_content=HTML, status="sent"
    )
    db.add(c)
    await db.flush()
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at, error_message)
        SELECT :c, id, email, CASE WHEN first_name = 'Person3' THEN 'failed' ELSE 'sent' END, now(),
               CASE WHEN first_name = 'Person3' THEN '550 No such user' ELSE '' END
        FROM contacts ORDER BY id"""),
        {"c": c.id},
    )
    await db.commit()

    first = client.get(f"/api/campaigns/{c.id}/emails?limit=3").json()
    assert [e["to_email"] for e in first["items"]] == [f"person{i}@example.com" for i in range(3)]
    email = first["items"][1]
    assert set(email) == EMAIL_KEYS
    assert (email["subject"], email["from_email"], email["status"], email["error_message"]) == (
        "Hi Person1",
        "news@example.com",
        "sent",
        None,
    )
    rest = client.get(f"/api/campaigns/{c.id}/emails", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [e["to_email"] for e in rest["items"]] == ["person3@example.com", "person4@example.com"]
    assert rest["next_cursor"] is None

    failed = client.get(f"/api/campaigns/{c.id}/emails?status=failed").json()["items"]
    assert [(e["to_email"], e["error_message"]) for e in failed] == [("person3@example.com", "550 No such user")]
    full = client.get(f"/api/campaigns/{c.id}/emails?limit=1&include_content=true").json()["items"][0]
    assert "Hello Person0" in full["html_content"] and "/u/c/" in full["html_content"]  # tracked, as sent
    assert "/u/unsubscribe/" in full["html_content"] and "1 Main St" in full["text_content"]
    # no token that acts for the subscriber: a staff member could opt them back in with it, or
    # record an open or a click that was never theirs by reading the copy
    for page in ("unsubscribe", "preferences", "c", "o"):
        assert f"/u/{page}/recipients-own-link" in full["html_content"] + full["text_content"]
        assert re.search(rf"/u/{page}/(?!recipients-own-link)", full["html_content"] + full["text_content"]) is None
    assert client.get(f"/api/campaigns/{c.id}/emails?status=weird").status_code == 400
    assert client.get(f"/api/campaigns/{c.id}/emails?limit=1000").status_code == 400
    assert client.get("/api/campaigns/77/emails").status_code == 404


async def test_viewer_keys_cannot_change_campaigns(api, db):
    viewer = await api("viewer")
    db.add(Campaign(name="Draft"))
    await db.commit()
    campaign_id = await db.scalar(select(Campaign.id))
    for path in (
        "",
        f"/{campaign_id}/send",
        f"/{campaign_id}/schedule",
        f"/{campaign_id}/pause",
        f"/{campaign_id}/resume",
        f"/{campaign_id}/cancel",
        f"/{campaign_id}/duplicate",
    ):
        response = viewer.post(f"/api/campaigns{path}", json={"name": "x", "scheduled_time": "2099-01-01T00:00"})
        assert response.status_code == 403, path
    assert viewer.put(f"/api/campaigns/{campaign_id}", json={"name": "x"}).status_code == 403
    assert viewer.delete(f"/api/campaigns/{campaign_id}").status_code == 403
    assert await db.scalar(select(Campaign.status)) == "draft"
