"""Automations and lead scores together, as the features call each other: a custom event posted to
the API starts the automations it triggers, an automation's score step gives points, and a score,
grade or lifecycle stage reached starts the automations waiting for it, once per crossing."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.test_automation_triggers import TAG_STEP, enrolled
from tests.integration.test_automations_engine import run
from tests.support.automations import new_contacts, published
from webapp.automations.service.enrolments import enrol
from webapp.scoring import service as scoring


async def test_a_custom_event_posted_to_the_api_starts_the_automations_waiting_for_it(db, api) -> None:
    (buyer,) = await new_contacts(db, 1)
    on_purchase = await published(db, TAG_STEP, trigger={"kind": "custom_event", "name": "purchase"})
    on_cart = await published(db, TAG_STEP, trigger={"kind": "custom_event", "name": "abandoned_cart"})
    client = await api("editor")

    posted = client.post("/api/events", json={"email": "c1@example.com", "name": "purchase", "idempotency_key": "o-1"})
    assert posted.status_code == 201
    again = client.post("/api/events", json={"email": "c1@example.com", "name": "purchase", "idempotency_key": "o-1"})
    assert again.status_code == 200  # the same event: stored once, so it starts nothing more

    assert await enrolled(db, on_purchase) == [buyer]
    assert await enrolled(db, on_cart) == []
    assert await db.scalar(text("SELECT count(*) FROM automation_enrolments")) == 1


async def test_the_score_step_gives_points_and_reaching_a_score_starts_an_automation_once(db) -> None:
    contact_ids = await new_contacts(db, 2)
    giver = await published(db, [{"id": "points", "type": "score", "points": 60}])
    on_fifty = await published(db, TAG_STEP, trigger={"kind": "score_changed", "min_score": 50}, reentry="always")
    await enrol(db, giver, contact_ids[:1])
    await db.commit()

    await run(db)  # the score step, then the tag of the automation it started
    score = await db.execute(text("SELECT contact_id, score FROM contact_scores ORDER BY contact_id"))
    assert [(c, s >= 60) for c, s in score.all()] == [(contact_ids[0], True)]
    reasons = await db.scalars(text("SELECT reason FROM score_history WHERE contact_id = :c"), {"c": contact_ids[0]})
    assert f"Automation #{giver}" in list(reasons)
    assert await enrolled(db, on_fifty) == [contact_ids[0]]

    await scoring.add_points(db, contact_ids, 10, "Webinar")  # already past 50: nothing is reached again
    await db.commit()
    assert await enrolled(db, on_fifty) == [contact_ids[0]]
    await scoring.add_points(db, contact_ids[:1], -100, "Refund")
    await scoring.add_points(db, contact_ids[:1], 100, "Bought again")  # down below 50 and up: reached again
    await db.commit()
    assert await enrolled(db, on_fifty) == [contact_ids[0], contact_ids[0]]


async def test_a_stage_set_by_hand_starts_the_automations_of_that_stage(db) -> None:
    (contact_id,) = await new_contacts(db, 1)
    on_sql = await published(db, TAG_STEP, trigger={"kind": "lifecycle_changed", "stage": "sql"})
    on_customer = await published(db, TAG_STEP, trigger={"kind": "lifecycle_changed", "stage": "customer"})

    await scoring.set_stage(db, contact_id, {"stage": "sql"}, by="test editor")
    await db.commit()

    assert await enrolled(db, on_sql) == [contact_id]
    assert await enrolled(db, on_customer) == []
