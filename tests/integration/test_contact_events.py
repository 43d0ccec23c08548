"""Custom events: stored set-based, once per client key, the newly stored ones reported (for the
custom-event trigger); POST /api/events against the real server."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text

from tests.support.scoring import contact
from webapp.contact_events import service as contact_events
from webapp.contact_events.models import ContactEvent
from webapp.contact_events.service import NewEvent
from webapp.scoring import service as scoring


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_record_stores_a_batch_once_per_client_key_and_reports_only_the_new_events(db):
    ada, bob = await contact(db, "ada@example.com"), await contact(db, "bob@example.com")
    first = await contact_events.record(
        db,
        [
            NewEvent(ada, "purchase", {"total": 30}, client_key="order-1"),
            NewEvent(bob, "abandoned_cart"),
            NewEvent(ada, "purchase", {"total": 30}, client_key="order-1"),  # the same, twice in one batch
        ],
    )
    again = await contact_events.record(db, [NewEvent(ada, "purchase", client_key="order-1"), NewEvent(bob, "visit")])
    assert first == [(ada, "purchase"), (bob, "abandoned_cart")]
    assert again == [(bob, "visit")]
    assert await db.scalar(select(func.count()).select_from(ContactEvent)) == 3


async def test_an_event_is_posted_by_email_with_its_properties_and_time_and_a_repeat_answers_with_it(api, db):
    ada = await contact(db, "ada@example.com")
    await db.commit()
    client = await api("editor")
    body = {
        "email": "ADA@example.com",
        "name": "purchase",
        "properties": {"sku": "B-7", "total": 49.9},
        "occurred_at": "2026-12-01T10:00:00Z",
        "idempotency_key": "order-7",
    }
    created = client.post("/api/events", json=body)
    assert created.status_code == 201, created.text
    event = created.json()
    assert (event["contact_id"], event["name"], event["properties"]) == (ada, "purchase", {"sku": "B-7", "total": 49.9})
    assert datetime.fromisoformat(event["occurred_at"]) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    again = client.post("/api/events", json=body)
    assert again.status_code == 200 and again.json() == event
    clash = client.post("/api/events", json={**body, "name": "refund"})
    assert clash.status_code == 409 and "(different name)" in fields(clash)["idempotency_key"]
    changed = client.post("/api/events", json={**body, "properties": {"sku": "B-8"}})
    assert changed.status_code == 409 and "(different properties)" in fields(changed)["idempotency_key"]
    both = client.post("/api/events", json={**body, "contact_id": ada})
    assert both.status_code == 422 and "one of them" in fields(both)["email"]

    keyless = {name: value for name, value in body.items() if name != "idempotency_key"}
    by_header = client.post("/api/events", json=keyless, headers={"Idempotency-Key": "order-8"})
    assert by_header.status_code == 201 and by_header.json()["idempotency_key"] == "order-8"
    retried = client.post("/api/events", json=keyless, headers={"Idempotency-Key": "order-8"})
    assert retried.status_code == 200 and retried.json() == by_header.json()
    mismatch = client.post("/api/events", json=body, headers={"Idempotency-Key": "order-8"})
    assert mismatch.status_code == 422 and "Idempotency-Key header" in fields(mismatch)["idempotency_key"]
    too_long = client.post("/api/events", json=keyless, headers={"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 422 and "idempotency_key" in fields(too_long), too_long.text


async def test_the_contact_page_shows_an_events_properties_as_text_to_read(api, staff, db):
    ada = await contact(db, "ada@example.com")
    await db.commit()
    properties = {"sku": "<b>B-7</b> & co", "city": "Zürich"}
    assert (await api("editor")).post(
        "/api/events", json={"contact_id": ada, "name": "purchase", "properties": properties}
    ).status_code == 201
    page = (await staff("viewer")).get(f"/contacts/{ada}").text
    assert '{"sku": "&lt;b&gt;B-7&lt;/b&gt; &amp; co", "city": "Zürich"}' in page.replace("&#34;", '"')
    assert "\\u003c" not in page and "<b>B-7" not in page


async def test_bad_events_are_refused_naming_the_field(api, db):
    await contact(db, "ada@example.com")
    await db.commit()
    client = await api("editor")
    cases = [
        ({"email": "nobody@example.com", "name": "purchase"}, "email"),
        ({"contact_id": 999999, "name": "purchase"}, "contact_id"),
        ({"name": "purchase"}, "email"),
        ({"email": "ada@example.com", "name": "two words"}, "name"),
        ({"email": "ada@example.com", "name": "purchase", "occurred_at": "yesterday"}, "occurred_at"),
        ({"email": "ada@example.com", "name": "purchase", "occurred_at": "7468-06-30T19:36:37Z"}, "occurred_at"),
        ({"email": "ada@example.com", "name": "purchase", "colour": "red"}, "colour"),
        ({"email": "ada@example.com", "name": "purchase", "properties": {"note": "a\u0000b"}}, "properties"),
        ({"email": "ada@example.com", "name": "purchase", "properties": {"blob": "x" * 20_000}}, "properties"),
    ]
    for body, field in cases:
        answer = client.post("/api/events", json=body)
        assert answer.status_code == 422 and field in fields(answer), (body, answer.text)
    wrong_type = client.post("/api/events", json={"email": "ada@example.com", "name": "x", "properties": [1]})
    assert wrong_type.status_code == 400 and "properties" in wrong_type.text


async def test_a_viewer_key_cannot_post_events(api, db):
    await contact(db, "ada@example.com")
    await db.commit()
    client = await api("viewer")
    assert client.post("/api/events", json={"email": "ada@example.com", "name": "purchase"}).status_code == 403


async def test_a_contacts_data_export_holds_their_events_and_score_and_erasure_removes_them(api, db):
    ada = await contact(db, "ada@example.com")
    await contact_events.record(db, [NewEvent(ada, "purchase", {"sku": "B-7"}, client_key="order-1")])
    await scoring.add_points(db, [ada], 30, "Webinar")
    await db.commit()
    editor = await api("editor")
    exported = editor.get(f"/api/contacts/{ada}/export").json()
    assert [(e["name"], e["properties"], e["idempotency_key"]) for e in exported["custom_events"]] == [
        ("purchase", {"sku": "B-7"}, "order-1")
    ]
    lead_score = exported["lead_score"]
    assert (lead_score["score"], lead_score["grade"], lead_score["lifecycle_stage"]) == (50, "C", "mql")
    assert [h["reason"] for h in lead_score["history"]] == ["Event: purchase", "Webinar"]
    assert editor.post(f"/api/contacts/{ada}/erase").status_code == 200
    for table in ("contact_events", "contact_scores", "score_history"):
        assert await db.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table


async def test_a_contacts_events_are_read_newest_first_a_page_at_a_time(api, db):
    ada = await contact(db, "ada@example.com")
    await db.commit()
    client = await api("editor")
    for name, at in (("a", "10:00"), ("b", "11:00"), ("c", "11:00"), ("d", "12:00"), ("e", "09:00")):
        client.post("/api/events", json={"contact_id": ada, "name": name, "occurred_at": f"2026-12-01T{at}:00.123456Z"})

    names, cursor, pages = [], None, 0
    while True:
        page = client.get(f"/api/contacts/{ada}/events", params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        names += [e["name"] for e in page.json()["items"]]
        pages += 1
        if (cursor := page.json()["next_cursor"]) is None:
            break
    assert names == ["d", "c", "b", "a", "e"] and pages == 3, "same-time events ordered by id, none twice or lost"
    assert client.get(f"/api/contacts/{ada}/events", params={"cursor": "x"}).status_code == 400
