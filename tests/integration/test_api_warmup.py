"""/api/warmup-plans with real API keys: create (the same rules as the form, a 422 naming the field),
read where a plan stands today, replace, release a held plan (409 when it is not held), delete;
viewer keys read only."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.campaigns import smtp_server
from webapp.warmup.models import WarmupPlan
from webapp.warmup.service.schedule import default_schedule


def body(**changes) -> dict:
    return {
        "name": "news.example.com",
        "scope": "from_domain",
        "from_domain": "news.example.com",
        "starts_on": datetime.now(UTC).date().isoformat(),
        "daily_limits": default_schedule(20_000),
        "bounce_threshold": 5,
        "complaint_threshold": 0.3,
        "min_sample": 100,
        "is_active": True,
    } | changes


async def test_an_editor_key_manages_plans_and_releases_a_held_one(api, db):
    client = await api("editor")
    created = client.post("/api/warmup-plans", json=body())
    assert created.status_code == 201, created.text
    plan = created.json()
    assert (plan["scope"], plan["from_domain"], plan["day"], plan["limit_today"]) == (
        "from_domain",
        "news.example.com",
        1,
        50,
    )
    assert plan["state"] == "warming up" and plan["sent_today"] == 0

    wrong = client.post("/api/warmup-plans", json=body(daily_limits=[50] * 29, from_domain="other.example.com"))
    assert wrong.status_code == 422 and "daily_limits" in wrong.text
    server = await smtp_server(db, 2525)
    await db.commit()
    replaced = client.put(
        f"/api/warmup-plans/{plan['id']}", json=body(scope="smtp_server", smtp_server_id=server.id, from_domain="")
    )
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["smtp_server_id"], replaced.json()["from_domain"]) == (server.id, None)

    assert client.post(f"/api/warmup-plans/{plan['id']}/release").status_code == 409
    held = await db.get(WarmupPlan, plan["id"])
    held.held_at, held.held_reason = datetime.now(UTC), "The complaint rate reached 0.50 %."
    await db.commit()
    assert client.get(f"/api/warmup-plans/{plan['id']}").json()["state"] == "held back"
    released = client.post(f"/api/warmup-plans/{plan['id']}/release")
    assert released.status_code == 200 and released.json()["held_at"] is None
    assert released.json()["released_by"] == "test editor"

    assert client.delete(f"/api/warmup-plans/{plan['id']}").status_code == 204
    assert client.get(f"/api/warmup-plans/{plan['id']}").status_code == 404


async def test_a_viewer_key_reads_plans_but_changes_nothing(api, db):
    editor, viewer = await api("editor"), await api("viewer")
    plan_id = editor.post("/api/warmup-plans", json=body()).json()["id"]
    assert [p["id"] for p in viewer.get("/api/warmup-plans").json()] == [plan_id]
    assert viewer.post("/api/warmup-plans", json=body(from_domain="x.example.com")).status_code == 403
    assert viewer.delete(f"/api/warmup-plans/{plan_id}").status_code == 403
