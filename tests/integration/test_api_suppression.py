"""JSON API /api/suppression against the real server: add (201, or 200 when there already), bulk with
reported rejects, keyset listing, check, stats, removal with a reason; errors name the field; roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from webapp.suppression.models import Suppression
from webapp.suppression.service import suppression

ENTRY_KEYS = {"id", "email", "reason", "note", "source", "created_by", "created_at"}


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_add_check_and_remove(api, db):
    client = await api("editor")
    created = client.post(
        "/api/suppression", json={"email": "Ada@Example.com", "reason": "complaint", "note": "FBL report"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == ENTRY_KEYS
    assert (body["email"], body["reason"], body["note"], body["source"]) == (
        "Ada@example.com",
        "complaint",
        "FBL report",
        "api",
    )
    assert body["created_by"] == "api:test editor"
    datetime.fromisoformat(body["created_at"])

    again = client.post("/api/suppression", json={"email": "ada@example.com"})
    assert again.status_code == 200 and again.json() == body  # the first entry, unchanged

    default = client.post("/api/suppression", json={"email": "grace@example.com"})
    assert default.status_code == 201 and default.json()["reason"] == "manual"

    check = client.get("/api/suppression/check", params={"email": "ADA@example.com"})
    assert check.status_code == 200
    assert check.json()["suppressed"] is True and check.json()["reason"] == "complaint"
    datetime.fromisoformat(check.json()["since"])
    free = client.get("/api/suppression/check", params={"email": "alan@example.com"}).json()
    assert free == {"email": "alan@example.com", "suppressed": False, "reason": None, "since": None}
    unasked = client.get("/api/suppression/check")
    assert unasked.status_code == 400
    assert unasked.json()["errors"] == [{"field": "email", "message": "The query parameter email is required."}]

    no_reason = client.delete("/api/suppression/ada@example.com")
    assert no_reason.status_code == 422 and "reason" in fields(no_reason)
    removed = client.delete("/api/suppression/ADA@example.com", params={"reason": "Complaint was a mistake"})
    assert removed.status_code == 204, removed.text
    assert client.get("/api/suppression/check", params={"email": "ada@example.com"}).json()["suppressed"] is False
    gone = client.delete("/api/suppression/ada@example.com", params={"reason": "again"})
    assert gone.status_code == 404 and gone.json()["status_code"] == 404


async def test_errors_name_the_field(api, db):
    client = await api("editor")
    bad = client.post("/api/suppression", json={"email": "nope", "note": "x" * 2001, "colour": "red"})
    assert bad.status_code == 422
    assert set(fields(bad)) == {"email", "note", "colour"}
    wrong_type = client.post("/api/suppression", json={"email": 42})
    assert wrong_type.status_code == 400 and "email" in fields(wrong_type)
    wrong_reason = client.post("/api/suppression", json={"email": "a@example.com", "reason": "spam"})
    assert wrong_reason.status_code == 400 and "reason" in fields(wrong_reason)
    missing = client.post("/api/suppression", json={})
    assert missing.status_code == 400 and "email" in fields(missing)
    check = client.get("/api/suppression/check", params={"email": "not an address"})
    assert check.status_code == 422 and "email" in fields(check)
    assert client.get("/api/suppression/check").status_code == 400
    cursor = client.get("/api/suppression", params={"cursor": "garbage"})
    assert cursor.status_code == 400 and "cursor" in fields(cursor)
    limit = client.get("/api/suppression", params={"limit": 0})
    assert limit.status_code == 400 and "limit" in fields(limit)
    reason = client.get("/api/suppression", params={"reason": "spam"})
    assert reason.status_code == 400 and "reason" in fields(reason)
    too_many = client.post("/api/suppression/bulk", json={"emails": ["a@example.com"] * 10_001})
    assert too_many.status_code == 422 and "emails" in fields(too_many)
    unknown = client.post("/api/suppression/bulk", json={"emails": ["a@example.com"], "extra": 1})
    assert unknown.status_code == 422 and fields(unknown) == {"extra": "Unknown field."}
    assert await db.scalar(select(Suppression.id)) is None


async def test_bulk_adds_the_good_and_reports_the_rest_by_position(api, db):
    await suppression.add(db, "known@example.com", "bounce")
    await db.commit()
    client = await api("editor")
    response = client.post(
        "/api/suppression/bulk",
        json={
            "emails": ["one@example.com", "bad", "known@example.com", "two@example.com", "ONE@example.com", "x@"],
            "reason": "unsubscribe",
            "note": "old system",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["added"], body["already"]) == (2, 2)
    assert [(r["line"], r["text"]) for r in body["rejected"]] == [(2, "bad"), (6, "x@")]
    db.expire_all()
    rows = dict((await db.execute(select(Suppression.email, Suppression.reason))).all())
    assert rows == {"known@example.com": "bounce", "one@example.com": "unsubscribe", "two@example.com": "unsubscribe"}


async def test_list_pages_newest_first_with_filters_and_stats(api, db):
    await suppression.add_many(db, [f"b{i}@example.com" for i in range(5)], "bounce")
    await suppression.add_many(db, ["m0@example.com", "m1@example.com"], "manual")
    await db.commit()
    client = await api("viewer")
    seen, cursor = [], None
    for _ in range(5):
        page = client.get("/api/suppression", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        assert set(page) == {"items", "next_cursor"}
        seen += [item["email"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["m1@example.com", "m0@example.com"] + [f"b{i}@example.com" for i in reversed(range(5))]
    bounces = client.get("/api/suppression", params={"reason": "bounce", "q": "B3"}).json()
    assert [item["email"] for item in bounces["items"]] == ["b3@example.com"]

    stats = client.get("/api/suppression/stats")
    assert stats.status_code == 200
    assert stats.json() == {
        "total": 7,
        "by_reason": {"bounce": 5, "complaint": 0, "unsubscribe": 0, "manual": 2, "compliance": 0},
    }


async def test_roles_viewer_reads_editor_changes_and_keys_are_required(api, db, live_server):
    import httpx

    await suppression.add(db, "kept@example.com", "manual")
    await db.commit()
    viewer = await api("viewer")
    assert viewer.get("/api/suppression").status_code == 200
    assert viewer.get("/api/suppression/stats").status_code == 200
    assert viewer.get("/api/suppression/check", params={"email": "kept@example.com"}).status_code == 200
    denied = [
        viewer.post("/api/suppression", json={"email": "x@example.com"}),
        viewer.post("/api/suppression/bulk", json={"emails": ["x@example.com"]}),
        viewer.delete("/api/suppression/kept@example.com", params={"reason": "why not"}),
    ]
    assert [r.status_code for r in denied] == [403, 403, 403]
    assert all(r.json()["status_code"] == 403 for r in denied)
    assert httpx.get(live_server + "/api/suppression").status_code == 401
    db.expire_all()
    assert list(await db.scalars(select(Suppression.email))) == ["kept@example.com"]
