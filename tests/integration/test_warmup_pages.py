"""Warm-up plan pages against the real web server: the form with its default schedule and its
"fill in" button, validation next to the field (a day named), one plan per server or domain,
roles, the plan's page and a campaign's page under a plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select

from tests.support.campaigns import audience, ready_campaign, smtp_server
from tests.support.warmup import domain_plan
from webapp.warmup.models import WarmupPlan
from webapp.warmup.service.schedule import default_schedule


def form(**changes) -> dict:
    limits = default_schedule(10_000)
    data = {
        "name": "New IP",
        "scope": "smtp_server",
        "smtp_server_id": "",
        "from_domain": "",
        "starts_on": datetime.now(UTC).date().isoformat(),
        "target": "10000",
        "bounce_threshold": "4",
        "complaint_threshold": "0.2",
        "min_sample": "200",
        "is_active": "yes",
    } | {f"day_{day}": str(limit) for day, limit in enumerate(limits, start=1)}
    return data | changes


def test_the_default_schedule_starts_at_50_and_grows_to_the_target_in_30_days():
    days = default_schedule(50_000)
    assert days[0] == 50 and days[-1] == 50_000 and len(days) == 30
    assert all(a <= b <= 2 * a for a, b in pairwise(days))
    assert default_schedule(30)[0] == 30 and set(default_schedule(30)) == {30}
    assert default_schedule(10_000_000)[-1] == 10_000_000


async def test_an_editor_plans_a_warm_up_for_a_server_and_sees_it_today(staff, db):
    server = await smtp_server(db, 2525, name="New relay")
    await db.commit()
    client = await staff("editor")
    new = client.get("/warmup/new").text
    assert 'name="day_1" type="number" value="50"' in new and 'name="day_30" type="number" value="50000"' in new

    response = client.post("/warmup", data=form(smtp_server_id=str(server.id), day_2="120"))
    assert response.status_code == 303
    plan = (await db.scalars(select(WarmupPlan))).one()
    assert response.headers["location"] == f"/warmup/{plan.id}"
    assert (plan.scope, plan.smtp_server_id, plan.from_domain) == ("smtp_server", server.id, None)
    assert plan.daily_limits[:2] == [50, 120] and plan.daily_limits[-1] == 10_000
    assert (plan.bounce_threshold, plan.complaint_threshold, plan.min_sample) == (4.0, 0.2, 200)

    page = client.get(f"/warmup/{plan.id}").text
    assert "SMTP server New relay" in page and "1 of 30" in page and "warming up" in page
    listing = client.get("/warmup").text
    assert f'id="warmup-plan-{plan.id}"' in listing and "New relay" in listing


async def test_a_plan_starting_later_says_when_day_1_is(staff, db):
    server = await smtp_server(db, 2525, name="Next relay")
    await db.commit()
    client = await staff("editor")
    later = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    client.post("/warmup", data=form(smtp_server_id=str(server.id), starts_on=later))
    plan = (await db.scalars(select(WarmupPlan))).one()
    page = " ".join(client.get(f"/warmup/{plan.id}").text.split())
    assert f"not started: day 1 is {later}" in page and "day 1 was" not in page
    assert "(day 1's, until the plan starts)" in page and "Rates, from day 1" in page
    assert 'aria-current="date"' not in page  # no day of the schedule is today's yet
    listed = " ".join(client.get("/warmup").text.split())
    assert f"day 1 on {later}" in listed and "1 of 30" not in listed


async def test_fill_in_computes_the_days_to_the_target_without_saving(staff, db):
    client = await staff("editor")
    response = client.post("/warmup/fill", data=form(target="2000"))
    assert response.status_code == 200
    assert 'name="day_30" type="number" value="2000"' in response.text
    assert f'name="day_2" type="number" value="{default_schedule(2000)[1]}"' in response.text
    assert (await db.scalars(select(WarmupPlan))).first() is None


async def test_mistakes_are_shown_next_to_their_field_and_one_plan_per_domain(staff, db):
    client = await staff("editor")
    response = client.post("/warmup", data=form(day_7="lots", bounce_threshold="200"))
    assert response.status_code == 422
    assert 'id="day_7-error">Day 7 must be a whole number.' in response.text
    assert "must be between 0.1 and 100 %" in response.text
    assert 'value="lots"' in response.text  # what was typed is kept
    missing = client.post("/warmup", data=form())
    assert "Choose the SMTP server to warm up." in missing.text

    ok = client.post("/warmup", data=form(scope="from_domain", from_domain="News.Example.com"))
    assert ok.status_code == 303
    again = client.post("/warmup", data=form(scope="from_domain", from_domain="news.example.com", name="Again"))
    first_id = (await db.scalars(select(WarmupPlan.id))).one()
    assert again.status_code == 422 and f"(#{first_id}) already covers it; edit that one." in again.text
    assert (await db.scalars(select(WarmupPlan.from_domain))).all() == ["news.example.com"]


async def test_viewers_read_plans_but_cannot_change_them(staff, db):
    plan = await domain_plan(db, first_day=10)
    await db.commit()
    client = await staff("viewer")
    page = client.get(f"/warmup/{plan.id}").text
    assert plan.name in page and f"/warmup/{plan.id}/edit" not in page
    assert client.get("/warmup/new").status_code == 403
    assert client.post("/warmup", data=form()).status_code == 403
    assert client.post(f"/warmup/{plan.id}/delete").status_code == 403
    assert client.get("/warmup/999999").status_code == 404


async def test_a_held_plan_shows_why_and_an_editor_releases_it(staff, db):
    plan = await domain_plan(db, first_day=10)
    plan.held_at, plan.held_reason = datetime.now(UTC), "The bounce rate reached 9.0 % (9 of 100 messages)."
    await db.commit()
    client = await staff("editor")
    page = client.get(f"/warmup/{plan.id}").text
    assert "held back" in page and "The bounce rate reached 9.0 %" in page and "Release the plan" in page
    assert client.post(f"/warmup/{plan.id}/release").status_code == 303
    assert "Release the plan" not in client.get(f"/warmup/{plan.id}").text
    again = client.post(f"/warmup/{plan.id}/release", follow_redirects=True)
    assert "This plan is not held back." in again.text


async def test_a_campaign_under_a_plan_shows_todays_maximum_on_its_page(staff, db):
    email_list = await audience(db, 3)
    await domain_plan(db, first_day=25, name="Domain warm-up")
    campaign = await ready_campaign(db, [email_list.id])
    await db.commit()
    client = await staff("viewer")
    page = client.get(f"/campaigns/{campaign.id}").text
    assert f'id="campaign-{campaign.id}-warmup"' in page
    assert "0 of today's 25 went under it" in page and "Domain warm-up" in page

    other = await ready_campaign(db, [email_list.id], from_email="news@elsewhere.example")
    await db.commit()
    assert f'id="campaign-{other.id}-warmup"' not in client.get(f"/campaigns/{other.id}").text
