"""Segment rules are typed by people and can ask a lot of the database. A count, preview or page of
matches made in a request stops at its time limit (MAILROOM_SEGMENT_LIVE_COUNT_SECONDS in the
builder, on a segment's page and in the campaign wizard; MAILROOM_SEGMENT_COUNT_SECONDS when it is
saved or counted through the API, and for each statement of an export), says so, and the rest of
the request goes on; a campaign whose recipients take too long to find when it starts fails,
saying why (MAILROOM_SEGMENT_SEND_SECONDS), and an automation's check of who entered a segment
enrols nobody that time and says why. A server whose
limits are 1 ms stands in for rules too slow for the real ones: 100 conditions over 20,000 contacts
take far longer than that."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import create_user, running_server, sign_in
from tests.integration.test_segment_builder import post_rules, shown_count
from tests.support.automations import new_contacts, published
from tests.support.campaigns import audience, ready_campaign
from webapp.automations.models import AutomationTriggerCheck
from webapp.automations.service import triggers
from webapp.campaigns.service import campaigns, sending
from webapp.core.config import get_settings
from webapp.core.queries import TooSlow, time_limit
from webapp.lists.service import lists
from webapp.staff.service import api_keys

HEAVY = {
    "operator": "AND",
    "conditions": [{"field": "email", "op": "not_contains", "value": f"nobody-{i}"} for i in range(100)],
}
SIZE = 20_000
TOO_SLOW = "took longer than 0.001 s, the time limit"


@contextlib.contextmanager
def this_process_limits(monkeypatch, **limits: str):
    """This test process's own settings with these limits (the live server has its own)."""
    with monkeypatch.context() as patched:
        for name, value in limits.items():
            patched.setenv(name, value)
        get_settings.cache_clear()
        try:
            yield
        finally:
            patched.undo()
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def slow_server():
    limits = {"MAILROOM_SEGMENT_LIVE_COUNT_SECONDS": "0.001", "MAILROOM_SEGMENT_COUNT_SECONDS": "0.001"}
    with running_server("server-slow-segments", **limits) as url:
        yield url


async def test_a_statement_past_its_time_limit_is_stopped_and_the_transaction_goes_on(db):
    await db.execute(text("INSERT INTO contacts (email) VALUES ('kept@example.com')"))
    before = await db.scalar(text("SHOW statement_timeout"))
    with pytest.raises(TooSlow):
        async with time_limit(db, 0.05):
            await db.execute(text("SELECT pg_sleep(5)"))
    assert await db.scalar(text("SHOW statement_timeout")) == before
    assert await db.scalar(text("SELECT count(*) FROM contacts WHERE email = 'kept@example.com'")) == 1
    async with time_limit(db, 5):
        assert await db.scalar(text("SHOW statement_timeout")) == "5s"
    assert await db.scalar(text("SHOW statement_timeout")) == before


async def test_rules_too_slow_to_count_say_so_where_they_are_counted_and_nothing_else_fails(db, slow_server, staff):
    await audience(db, SIZE)
    segment = await lists.create_list(db, {"name": "Heavy", "list_type": "dynamic", "rules": HEAVY}, "test")
    campaign = await ready_campaign(db, [segment.id])
    admin = await create_user(db, "admin", email="key-owner@example.com")
    _, key = await api_keys.create_key(db, {"name": "slow", "role": "editor"}, admin.id)
    await db.commit()
    assert segment.contact_count == SIZE  # counted within this process's own limit (30 s)

    usual = await staff("editor")  # the same rules on a server with the usual limits
    assert shown_count(post_rules(usual, "/lists/segments/count", HEAVY, {"list_type": "dynamic"}).text) == SIZE
    usual_page = usual.get(f"/lists/{segment.id}")
    assert "20,000 contacts match now" in usual_page.text and "person19999@example.com" in usual_page.text
    await db.refresh(segment)
    counted_at = segment.counted_at  # that page counted it again
    editor = sign_in(slow_server, "editor@example.com")

    builder = post_rules(editor, "/lists/segments/count", HEAVY, {"list_type": "dynamic"}, {"HX-Request": "true"})
    assert builder.status_code == 200 and TOO_SLOW in builder.text and shown_count(builder.text) is None

    page = editor.get(f"/lists/{segment.id}")
    assert page.status_code == 200 and TOO_SLOW in page.text
    assert "When last counted" in page.text and "20,000 contacts" in page.text
    assert "Finding the contacts this segment matches took too long" in page.text
    assert "person19999@example.com" not in page.text

    wizard = editor.post(
        f"/campaigns/{campaign.id}/audience/count", data={"list_ids": str(segment.id)}, headers={"HX-Request": "true"}
    )
    assert wizard.status_code == 200 and "took longer than the time limit" in wizard.text
    review = editor.get(f"/campaigns/{campaign.id}/review")
    assert review.status_code == 200 and "not counted" in review.text
    assert "Start sending to everyone its lists reach" in review.text
    assert 'class="primary" disabled' not in review.text  # an audience too slow to count does not block sending

    with httpx.Client(base_url=slow_server, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        counted = api.post(f"/api/lists/{segment.id}/count")
        assert counted.status_code == 422
        assert [e["field"] for e in counted.json()["errors"]] == ["rules"]
        assert TOO_SLOW in counted.json()["errors"][0]["message"]
        renamed = api.patch(f"/api/lists/{segment.id}", json={"name": "Heavy, renamed"})
        assert renamed.status_code == 200, renamed.text  # saved, though it could not be counted
        assert renamed.json()["contact_count"] == SIZE
        created = api.post("/api/lists", json={"name": "Heavy too", "list_type": "dynamic", "rules": HEAVY})
        assert created.status_code == 201, created.text  # saved, never counted
    new_page = editor.get(f"/lists/{created.json()['id']}")
    assert new_page.status_code == 200 and "not counted yet" in new_page.text
    assert "not counted yet" in editor.get(f"/campaigns/{campaign.id}/audience").text

    await db.refresh(segment)
    assert (segment.name, segment.contact_count, segment.counted_at) == ("Heavy, renamed", SIZE, counted_at)


async def test_an_export_of_rules_too_slow_to_gather_is_refused_before_its_first_byte(db, slow_server, staff):
    await audience(db, SIZE)
    segment = await lists.create_list(db, {"name": "Heavy", "list_type": "dynamic", "rules": HEAVY}, "test")
    admin = await create_user(db, "admin", email="key-owner@example.com")
    _, key = await api_keys.create_key(db, {"name": "slow", "role": "editor"}, admin.id)
    await db.commit()

    usual = await staff("editor")  # the same rules on a server with the usual limits
    exported = usual.get("/contacts/export", params={"list_id": segment.id})
    assert exported.status_code == 200 and len(exported.text.splitlines()) == SIZE + 1

    editor = sign_in(slow_server, "editor@example.com")
    page = editor.get("/contacts/export", params={"list_id": segment.id})
    assert page.status_code == 422 and "took longer than 0.001 s, the time limit, so nothing was exported" in page.text
    assert page.headers["content-type"].startswith("text/html")
    with httpx.Client(base_url=slow_server, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        refused = api.get("/api/contacts/export", params={"list_id": segment.id})
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["list_id"]
        assert TOO_SLOW in refused.json()["errors"][0]["message"]


async def test_a_campaign_whose_recipients_take_too_long_to_find_fails_saying_why(db, monkeypatch, staff):
    await audience(db, SIZE)
    segment = await lists.create_list(db, {"name": "Heavy", "list_type": "dynamic", "rules": HEAVY}, "test")
    campaign = await ready_campaign(db, [segment.id])
    await campaigns.send_now(db, campaign.id)
    await db.commit()

    with this_process_limits(monkeypatch, MAILROOM_SEGMENT_SEND_SECONDS="0.001"):
        failed = await sending.begin(db, campaign.id)
        await db.commit()
    assert failed is not None and failed.status == "failed"
    assert "Finding this campaign's recipients took longer than 0.001 s, the time limit" in failed.status_reason
    assert await db.scalar(text("SELECT count(*) FROM deliveries WHERE campaign_id = :c"), {"c": campaign.id}) == 0
    page = (await staff("viewer")).get(f"/campaigns/{campaign.id}")
    assert "took longer than 0.001 s, the time limit" in page.text

    await campaigns.send_now(db, campaign.id)  # sent again, within the usual limit
    started = await sending.begin(db, campaign.id)
    await db.commit()
    assert started is not None and (started.status, started.total_recipients) == ("sending", SIZE)


async def test_a_segment_too_slow_to_check_for_an_automation_enrols_nobody_and_its_page_says_why(
    db, monkeypatch, staff
):
    await audience(db, SIZE)
    segment = await lists.create_list(db, {"name": "Heavy", "list_type": "dynamic", "rules": HEAVY}, "test")
    on_segment = await published(
        db, [{"type": "tag", "tags": ["entered"]}], trigger={"kind": "segment_entered", "segment_id": segment.id}
    )
    (birthday,) = await new_contacts(db, 1, prefix="birthday")
    today = datetime.now(UTC)
    await db.execute(
        text("UPDATE contacts SET custom_fields = jsonb_build_object('birthday', CAST(:d AS text)) WHERE id = :c"),
        {"d": today.date().isoformat(), "c": birthday},
    )
    on_birthday = await published(
        db, [{"type": "tag", "tags": ["birthday"]}], trigger={"kind": "date_field", "field": "custom.birthday"}
    )
    await db.commit()

    with this_process_limits(monkeypatch, MAILROOM_SEGMENT_COUNT_SECONDS="0.001"):
        await triggers.evaluate_scheduled(db, today)
        await db.commit()
    checked = await triggers.last_problem(db, on_segment)
    assert checked is not None and "took longer than 0.001 s, the time limit, so nobody was enrolled" in checked[1]
    members = "SELECT count(*) FROM automation_segment_members WHERE automation_id = :a"
    assert await db.scalar(text(members), {"a": on_segment}) == 0
    enrolled = "SELECT contact_id FROM automation_enrolments WHERE automation_id = :a"
    assert list(await db.scalars(text(enrolled), {"a": on_birthday})) == [birthday]  # the other trigger went on
    viewer = await staff("viewer")
    assert "took longer than 0.001 s, the time limit" in viewer.get(f"/automations/{on_segment}").text
    held = await db.get(AutomationTriggerCheck, on_segment)  # a copy the session keeps (a reference cycle may)

    await triggers.evaluate_scheduled(db, today + triggers.SCHEDULED_EVERY)  # within the usual limit
    await db.commit()
    assert await triggers.last_problem(db, on_segment) is None
    assert held is not None and held.problem == ""
    assert await db.scalar(text(members), {"a": on_segment}) == SIZE + 1  # every contact, the birthday one too
    assert "the time limit" not in viewer.get(f"/automations/{on_segment}").text
