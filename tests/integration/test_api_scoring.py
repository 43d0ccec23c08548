"""The scoring API against the real server (seed 004's shapes under /api/scoring): rules CRUD with
every bad field named, a contact's score, points, manual stage, recalculation and history, the
leaderboard in keyset pages with filters, the lifecycle distribution, and what viewer keys may do."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.scoring import contact
from webapp.contact_events import service as contact_events
from webapp.contact_events.service import NewEvent


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_rules_are_created_read_changed_and_deleted(api, db):
    client = await api("editor")
    created = client.post(
        "/api/scoring/rules",
        json={"name": "Purchase", "event": "custom", "event_name": "purchase", "points": 20, "daily_limit": 2},
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["event"], rule["event_name"], rule["points"], rule["daily_limit"], rule["enabled"]) == (
        "custom",
        "purchase",
        20,
        2,
        True,
    )
    assert client.get("/api/scoring/rules").json() == [rule]
    changed = client.patch(f"/api/scoring/rules/{rule['id']}", json={"points": -5, "daily_limit": None})
    assert changed.status_code == 200 and (changed.json()["points"], changed.json()["daily_limit"]) == (-5, None)
    assert client.get(f"/api/scoring/rules/{rule['id']}").json()["points"] == -5
    assert client.delete(f"/api/scoring/rules/{rule['id']}").status_code == 204
    assert client.get(f"/api/scoring/rules/{rule['id']}").status_code == 404


async def test_bad_rules_are_refused_naming_the_field(api, db):
    client = await api("editor")
    cases = [
        ({"name": "x", "event": "bounce", "points": 1}, "event"),
        ({"name": "x", "event": "open", "points": 0}, "points"),
        ({"name": "x", "event": "open", "points": 5000}, "points"),
        ({"name": "x", "event": "custom", "points": 1}, "event_name"),
        ({"name": "x", "event": "open", "points": 1, "link_url": "https://example.com"}, "link_url"),
        ({"name": "x", "event": "open", "points": 1, "daily_limit": 0}, "daily_limit"),
        ({"name": "", "event": "open", "points": 1}, "name"),
        ({"name": "x", "event": "custom", "event_name": "has space", "points": 1}, "event_name"),  # never sent
        ({"name": "x", "event": "click", "link_url": "not a url", "points": 1}, "link_url"),  # never tracked
    ]
    for body, field in cases:
        answer = client.post("/api/scoring/rules", json=body)
        assert answer.status_code == 422 and field in fields(answer), (body, answer.text)
    for good in ({"event": "custom", "event_name": "abandoned_cart"}, {"event": "click", "link_url": ""}):
        assert client.post("/api/scoring/rules", json={"name": "ok", "points": 1, **good}).status_code == 201, good
    rule = client.post("/api/scoring/rules", json={"name": "Opens", "event": "open", "points": 1}).json()
    answer = client.patch(f"/api/scoring/rules/{rule['id']}", json={"event": "custom"})
    assert answer.status_code == 422 and "event_name" in fields(answer)


async def test_a_contacts_score_points_stage_history_and_recalculation(api, db):
    ada = await contact(db, "ada@example.com", first_name="Ada")
    await db.commit()
    client = await api("editor")
    fresh = client.get(f"/api/scoring/contacts/{ada}").json()
    assert (fresh["score"], fresh["grade"], fresh["lifecycle_stage"]) == (0, "F", "subscriber")
    given = client.post(f"/api/scoring/contacts/{ada}/points", json={"points": 50, "reason": "Webinar"})
    assert given.status_code == 200 and (given.json()["score"], given.json()["grade"]) == (53, "C")
    assert given.json()["lifecycle_stage"] == "mql"
    staged = client.put(f"/api/scoring/contacts/{ada}/stage", json={"stage": "customer"})
    assert staged.status_code == 200 and staged.json()["lifecycle_stage"] == "customer"
    assert staged.json()["stage_override"] == "customer"
    assert client.put(f"/api/scoring/contacts/{ada}/stage", json={"stage": "king"}).status_code == 422
    client.post("/api/scoring/rules", json={"name": "Demo", "event": "custom", "event_name": "demo", "points": 10})
    await contact_events.record(db, [NewEvent(ada, "demo")])  # scored with the rule at once
    await db.commit()
    recalculated = client.post(f"/api/scoring/contacts/{ada}/recalculate")
    assert recalculated.status_code == 200 and recalculated.json()["score"] == 3 + 50 + 10 + 20
    history = client.get(f"/api/scoring/contacts/{ada}/history").json()
    assert history["next_cursor"] is None
    reasons = [h["reason"] for h in history["items"]]  # latest first
    assert (
        len(reasons) == 3 and reasons[0] == "Event: demo" and reasons[2] == "Webinar"
    )  # recalculating changed nothing
    assert reasons[1].startswith("Stage set to Customer by ")
    assert client.get("/api/scoring/contacts/999999").status_code == 404
    assert client.post("/api/scoring/contacts/999999/points", json={"points": 1, "reason": "x"}).status_code == 404


async def test_the_leaderboard_pages_by_score_and_filters_and_the_lifecycle_counts_everyone(api, db):
    ids = [await contact(db, f"c{i}@example.com") for i in range(5)]
    never_scored = await contact(db, "new@example.com")
    await db.commit()
    client = await api("editor")
    for points, contact_id in zip([10, 95, 50, 50, 70], ids, strict=True):
        client.post(f"/api/scoring/contacts/{contact_id}/points", json={"points": points, "reason": "test"})
    first = client.get("/api/scoring/leaderboard", params={"limit": 3}).json()
    assert [item["score"] for item in first["items"]] == [95, 70, 50]
    rest = client.get("/api/scoring/leaderboard", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [item["score"] for item in rest["items"]] == [50, 10] and rest["next_cursor"] is None
    assert {i["contact_id"] for i in first["items"] + rest["items"]} == set(ids)
    top = client.get("/api/scoring/leaderboard", params={"grade": "A+"}).json()["items"]
    assert [(i["email"], i["lifecycle_stage"]) for i in top] == [("c1@example.com", "evangelist")]
    assert client.get("/api/scoring/leaderboard", params={"grade": "Z"}).status_code == 400
    assert client.get("/api/scoring/leaderboard", params={"cursor": "nonsense"}).status_code == 400
    lifecycle = client.get("/api/scoring/lifecycle").json()
    assert lifecycle == {
        "stages": [
            {"stage": "subscriber", "contacts": 2},
            {"stage": "lead", "contacts": 0},
            {"stage": "mql", "contacts": 2},
            {"stage": "sql", "contacts": 1},
            {"stage": "customer", "contacts": 0},
            {"stage": "evangelist", "contacts": 1},
        ],
        "total": 6,
    }
    assert never_scored not in {i["contact_id"] for i in first["items"] + rest["items"]}


async def test_recalculating_everyone_is_queued_for_a_worker_and_viewers_only_read(api, db):
    editor, viewer = await api("editor"), await api("viewer")
    assert editor.post("/api/scoring/recalculate").json() == {"queued": True}
    assert viewer.get("/api/scoring/lifecycle").status_code == 200
    assert viewer.post("/api/scoring/recalculate").status_code == 403
    assert viewer.post("/api/scoring/rules", json={"name": "x", "event": "open", "points": 1}).status_code == 403


async def test_a_long_score_history_pages_with_a_cursor(api, db):
    ada = await contact(db, "ada@example.com")
    await db.execute(
        text(
            "INSERT INTO score_history (contact_id, score, change, grade, stage, reason) "
            "SELECT :c, n, 1, 'D', 'subscriber', 'Change ' || n FROM generate_series(1, 52) n"
        ),
        {"c": ada},
    )
    await db.commit()
    client = await api("viewer")

    first = client.get(f"/api/scoring/contacts/{ada}/history").json()
    rest = client.get(f"/api/scoring/contacts/{ada}/history", params={"cursor": first["next_cursor"]}).json()
    wrong = client.get(f"/api/scoring/contacts/{ada}/history", params={"cursor": "42"})

    assert [h["score"] for h in first["items"]] == list(range(52, 2, -1))
    assert [h["score"] for h in rest["items"]] == [2, 1] and rest["next_cursor"] is None
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "cursor"
