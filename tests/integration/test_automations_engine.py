"""The engine against real PostgreSQL: due steps claimed in batches and run exactly once, set-based;
waits, conditions, goals and skip_if; exits when the contact became unmailable; paused automations
wait; parallel claims never run an enrolment's step twice."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from tests.support.automations import enrolments, new_contacts, published, step_runs
from webapp.automations.actors import RETRY_MINUTES, run_until_done
from webapp.automations.service import automations, engine
from webapp.automations.service.enrolments import StepCounts, Totals, enrol, remove, step_counts, totals
from webapp.automations.service.steps import EXECUTORS
from webapp.core.db import get_sessionmaker
from webapp.webhooks.service import endpoints

VIP = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}


async def run(db, batch_size: int = 1000) -> int:
    """Run batches until nothing is due; how many enrolments were claimed."""
    total, last = 0, None
    while (batch := await engine.run_batch(db, batch_size, last)).claimed:
        total, last = total + batch.claimed, batch.last
    return total


async def tags_of(db, contact_ids: list[int]) -> dict[int, list[str]]:
    rows = await db.execute(text("SELECT id, tags FROM contacts WHERE id = ANY(:ids)"), {"ids": contact_ids})
    await db.commit()
    return dict(rows.all())


async def make_due(db, automation_id: int) -> None:
    await db.execute(
        text("UPDATE automation_enrolments SET due_at = now() - interval '1 second' WHERE automation_id = :a"),
        {"a": automation_id},
    )
    await db.commit()


async def test_steps_run_once_through_to_the_end(db) -> None:
    automation_id = await published(
        db, [{"id": "t", "type": "tag", "tags": ["welcomed", "new"]}, {"id": "u", "type": "untag", "tags": ["new"]}]
    )
    contact_ids = await new_contacts(db, 3)
    await enrol(db, automation_id, contact_ids)
    await db.commit()

    assert await run(db) == 3
    assert await run(db) == 0
    assert await tags_of(db, contact_ids) == {c: ["welcomed"] for c in contact_ids}
    assert {(r["status"], r["step_id"]) for r in await enrolments(db, automation_id)} == {("completed", None)}
    assert await step_runs(db, automation_id) == [(c, s, "done") for c in contact_ids for s in ("t", "u")]


async def test_a_wait_holds_the_contact_until_it_ends(db) -> None:
    steps = [
        {"id": "first", "type": "tag", "tags": ["first"]},
        {"id": "wait", "type": "wait", "duration": {"days": 2, "hours": 3}},
        {"id": "second", "type": "tag", "tags": ["second"]},
    ]
    automation_id = await published(db, steps)
    [contact_id] = await new_contacts(db, 1)
    await enrol(db, automation_id, [contact_id])
    await db.commit()
    before = datetime.now(UTC)
    await run(db)
    after = datetime.now(UTC)

    [row] = await enrolments(db, automation_id)
    assert row["step_id"] == "wait"
    assert before + timedelta(days=2, hours=3) <= row["due_at"] <= after + timedelta(days=2, hours=3)
    assert await run(db) == 0  # not due yet
    assert await tags_of(db, [contact_id]) == {contact_id: ["first"]}

    await make_due(db, automation_id)
    assert await run(db) == 1
    assert await tags_of(db, [contact_id]) == {contact_id: ["first", "second"]}
    assert {r[1:] for r in await step_runs(db, automation_id)} == {
        ("first", "done"),
        ("wait", "done"),
        ("second", "done"),
    }


async def test_waits_until_a_date_field_and_until_a_weekday_in_the_contacts_time_zone(db) -> None:
    renewal = {"id": "w", "type": "wait", "until_field": "custom.renewal", "offset_days": -3}
    weekday = {"id": "w", "type": "wait", "weekdays": [1], "time": "09:30", "timezone": "Europe/Paris"}
    by_date = await published(db, [renewal])
    by_weekday = await published(db, [{"id": "first", "type": "tag", "tags": ["x"]}, weekday])
    in_tokyo, in_paris, no_date = await new_contacts(db, 3)
    await db.execute(
        text("""UPDATE contacts SET custom_fields = CASE id
                  WHEN :tokyo THEN '{"renewal": "2031-06-20", "timezone": "Asia/Tokyo"}'::jsonb
                  WHEN :paris THEN '{"renewal": "2031-06-20T12:00:00", "timezone": "Nowhere/Atlantis"}'::jsonb
                  ELSE '{"renewal": "2031-02-30"}'::jsonb END"""),
        {"tokyo": in_tokyo, "paris": in_paris},
    )
    before = datetime.now(UTC)
    await enrol(db, by_date, [in_tokyo, in_paris, no_date])
    await enrol(db, by_weekday, [in_tokyo, in_paris])
    await db.commit()
    await run(db)  # each contact arrives at its wait (after a tag in the second automation)

    rows = {r["contact_id"]: r for r in await enrolments(db, by_date)}
    assert rows[in_tokyo]["due_at"] == datetime(2031, 6, 17, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert rows[in_paris]["due_at"] == datetime(2031, 6, 17, tzinfo=UTC)  # an unknown zone: the step's (UTC)
    assert rows[no_date]["status"] == "completed"  # not a date: no wait

    due = {r["contact_id"]: r["due_at"] for r in await enrolments(db, by_weekday)}
    for contact_id, zone in ((in_tokyo, "Asia/Tokyo"), (in_paris, "Europe/Paris")):
        local = due[contact_id].astimezone(ZoneInfo(zone))
        assert (local.isoweekday(), local.hour, local.minute) == (1, 9, 30)
        assert before < due[contact_id] <= before + timedelta(days=7)


async def test_a_condition_sends_each_contact_down_its_branch(db) -> None:
    steps = [
        {
            "id": "is_vip",
            "type": "condition",
            "rules": VIP,
            "yes": [{"id": "gold", "type": "tag", "tags": ["gold"]}],
            "no": [],
        },
        {"id": "all", "type": "tag", "tags": ["all"]},
    ]
    automation_id = await published(db, steps)
    [vip] = await new_contacts(db, 1, "vip", tags=["vip"])
    [other] = await new_contacts(db, 1, "other")
    await enrol(db, automation_id, [vip, other])
    await db.commit()
    await run(db)

    assert await tags_of(db, [vip, other]) == {vip: ["vip", "gold", "all"], other: ["all"]}
    assert set(await step_runs(db, automation_id)) == {
        (vip, "is_vip", "branched_yes"),
        (vip, "gold", "done"),
        (vip, "all", "done"),
        (other, "is_vip", "branched_no"),
        (other, "all", "done"),
    }


async def test_skip_if_passes_a_step_and_a_goal_met_completes_the_run(db) -> None:
    steps = [
        {"id": "promo", "type": "tag", "tags": ["promo"], "skip_if": VIP},
        {"id": "wait", "type": "wait", "duration": {"days": 1}},
        {"id": "late", "type": "tag", "tags": ["late"]},
        {
            "id": "bought",
            "type": "goal",
            "rules": {"operator": "AND", "conditions": [{"field": "custom.plan", "op": "eq", "value": "pro"}]},
        },
    ]
    automation_id = await published(db, steps)
    [vip] = await new_contacts(db, 1, "vip", tags=["vip"])
    [buyer, other] = await new_contacts(db, 2)
    await enrol(db, automation_id, [vip, buyer, other])
    await db.commit()
    await run(db)
    await db.execute(text("""UPDATE contacts SET custom_fields = '{"plan": "pro"}' WHERE id = :c"""), {"c": buyer})
    await make_due(db, automation_id)
    await run(db)

    assert await tags_of(db, [vip, buyer, other]) == {vip: ["vip", "late"], buyer: ["promo"], other: ["promo", "late"]}
    rows = {r["contact_id"]: (r["status"], r["exit_reason"]) for r in await enrolments(db, automation_id)}
    assert rows == {vip: ("completed", None), buyer: ("completed", "goal"), other: ("completed", None)}
    assert (buyer, "bought", "goal") in await step_runs(db, automation_id)
    assert (vip, "promo", "skipped") in await step_runs(db, automation_id)


async def test_a_contact_that_became_unmailable_exits_at_its_next_step(db) -> None:
    automation_id = await published(db, [{"id": "t", "type": "tag", "tags": ["x"]}])
    stays, leaves = await new_contacts(db, 2)
    await enrol(db, automation_id, [stays, leaves])
    await db.execute(text("UPDATE contacts SET status = 'unsubscribed' WHERE id = :c"), {"c": leaves})
    await db.commit()
    await run(db)

    rows = {r["contact_id"]: (r["status"], r["exit_reason"], r["step_id"]) for r in await enrolments(db, automation_id)}
    assert rows == {stays: ("completed", None, None), leaves: ("exited", "unmailable", "t")}
    assert await tags_of(db, [stays, leaves]) == {stays: ["x"], leaves: []}


async def test_a_paused_automation_holds_its_contacts_and_resuming_continues(db) -> None:
    automation_id = await published(db, [{"id": "t", "type": "tag", "tags": ["x"]}])
    [contact_id] = await new_contacts(db, 1)
    await enrol(db, automation_id, [contact_id])
    await automations.pause(db, automation_id)
    await db.commit()
    assert await run(db) == 0

    await automations.resume(db, automation_id)
    await db.commit()
    assert await run(db) == 1
    assert await tags_of(db, [contact_id]) == {contact_id: ["x"]}


async def test_list_field_and_webhook_steps(db) -> None:
    endpoint, _ = await endpoints.create_endpoint(
        db, {"url": "http://127.0.0.1:9/hook", "event_types": ["contact.created"], "allow_private": True}
    )
    members = await db.scalar(text("INSERT INTO email_lists (name) VALUES ('Members') RETURNING id"))
    old = await db.scalar(text("INSERT INTO email_lists (name) VALUES ('Trial') RETURNING id"))
    steps = [
        {"type": "add_to_list", "list_id": members},
        {"type": "remove_from_list", "list_id": old},
        {"type": "update_field", "field": "plan", "value": "pro"},
        {"type": "webhook", "endpoint_id": endpoint.id},
    ]
    automation_id = await published(db, steps)
    contact_ids = await new_contacts(db, 2)
    await db.execute(
        text("INSERT INTO list_members (list_id, contact_id) SELECT :l, unnest(CAST(:c AS bigint[]))"),
        {"l": old, "c": contact_ids},
    )
    await enrol(db, automation_id, contact_ids)
    await db.commit()
    await run(db)

    lists = await db.execute(text("SELECT list_id, contact_id FROM list_members ORDER BY contact_id"))
    assert [tuple(row) for row in lists] == [(members, c) for c in contact_ids]
    fields = await db.scalars(text("SELECT custom_fields FROM contacts ORDER BY id"))
    assert list(fields) == [{"plan": "pro"}, {"plan": "pro"}]
    sent = await db.execute(text("SELECT event_type, data FROM webhook_deliveries ORDER BY id"))
    assert [(t, d["contact_id"], d["email"], d["automation_id"]) for t, d in sent] == [
        ("automation.step", c, f"c{i}@example.com", automation_id) for i, c in enumerate(contact_ids, 1)
    ]


async def test_parallel_workers_never_run_an_enrolments_step_twice(db) -> None:
    endpoint, _ = await endpoints.create_endpoint(
        db, {"url": "http://127.0.0.1:9/hook", "event_types": ["contact.created"], "allow_private": True}
    )
    steps = [{"id": "w", "type": "wait", "duration": {"minutes": 5}}, {"type": "webhook", "endpoint_id": endpoint.id}]
    automation_id = await published(db, steps)
    contact_ids = await new_contacts(db, 1200)
    await enrol(db, automation_id, contact_ids)
    await db.commit()
    await run(db)  # all start waiting
    await make_due(db, automation_id)

    async def worker() -> int:
        async with get_sessionmaker()() as session:
            return await run(session, batch_size=50)

    claimed = await asyncio.gather(*(worker() for _ in range(6)))
    assert sum(claimed) == 1200  # every enrolment claimed by exactly one worker
    assert sum(1 for c in claimed if c) > 1  # and the workers shared the work
    webhooks = await db.scalar(
        text("SELECT count(DISTINCT data ->> 'contact_id') || '/' || count(*) FROM webhook_deliveries")
    )
    assert webhooks == "1200/1200"
    assert {r["status"] for r in await enrolments(db, automation_id)} == {"completed"}


async def test_the_workers_scheduler_tick_runs_due_steps(db, worker) -> None:
    automation_id = await published(db, [{"id": "t", "type": "tag", "tags": ["x"]}])
    contact_ids = await new_contacts(db, 20)
    await enrol(db, automation_id, contact_ids)
    await db.commit()
    worker()

    deadline = time.monotonic() + 60
    while {r["status"] for r in await enrolments(db, automation_id)} != {"completed"}:
        assert time.monotonic() < deadline, "the enrolments were not run within 60 s"
        await asyncio.sleep(0.2)
    assert await tags_of(db, contact_ids) == {c: ["x"] for c in contact_ids}


async def test_counts_per_automation_and_per_step(db) -> None:
    steps = [
        {
            "id": "is_vip",
            "type": "condition",
            "rules": VIP,
            "yes": [],
            "no": [{"id": "t", "type": "tag", "tags": ["x"]}],
        },
        {"id": "wait", "type": "wait", "duration": {"days": 1}},
    ]
    automation_id = await published(db, steps)
    [vip] = await new_contacts(db, 1, "vip", tags=["vip"])
    others = await new_contacts(db, 3)
    await enrol(db, automation_id, [vip, *others])
    await db.commit()
    await run(db)
    await remove(db, automation_id, others[:1])
    await db.commit()

    assert await totals(db, [automation_id, automation_id + 1]) == {
        automation_id: Totals(enrolled=4, active=3),
        automation_id + 1: Totals(),
    }
    assert await step_counts(db, automation_id) == {
        "is_vip": StepCounts(done=4, branched_yes=1, branched_no=3),
        "t": StepCounts(done=3),
        "wait": StepCounts(waiting=3, done=4, exited=1),  # done: started waiting
    }


async def test_a_step_that_fails_is_retried_later_without_holding_up_the_others(db, monkeypatch) -> None:
    async def broken(session, batch) -> None:
        raise RuntimeError("the step's effect failed")

    monkeypatch.setitem(EXECUTORS, "update_field", broken)
    failing = await published(db, [{"type": "update_field", "field": "plan", "value": "pro"}])
    working = await published(db, [{"id": "t", "type": "tag", "tags": ["x"]}])
    contact_ids = await new_contacts(db, 6)
    await enrol(db, failing, contact_ids[:2])
    await enrol(db, working, contact_ids)
    await db.commit()
    before = datetime.now(UTC)

    assert await run_until_done(4, time.monotonic() + 60) == 6
    assert {r["status"] for r in await enrolments(db, working)} == {"completed"}
    postponed = await enrolments(db, failing)
    assert {r["status"] for r in postponed} == {"active"}
    assert all(r["due_at"] >= before + timedelta(minutes=RETRY_MINUTES) for r in postponed)


async def test_skip_if_on_a_wait_means_not_waiting(db) -> None:
    steps = [
        {"id": "wait", "type": "wait", "duration": {"days": 7}, "skip_if": VIP},
        {"id": "t", "type": "tag", "tags": ["after"]},
    ]
    automation_id = await published(db, steps)
    [vip] = await new_contacts(db, 1, "vip", tags=["vip"])
    [other] = await new_contacts(db, 1, "other")
    await enrol(db, automation_id, [vip, other])
    await db.commit()
    await run(db)

    rows = {r["contact_id"]: (r["status"], r["step_id"]) for r in await enrolments(db, automation_id)}
    assert rows == {vip: ("completed", None), other: ("active", "wait")}
    assert set(await step_runs(db, automation_id)) == {
        (vip, "wait", "skipped"),
        (vip, "t", "done"),
        (other, "wait", "done"),
    }


async def test_a_step_already_run_is_not_run_again_after_moving_to_a_new_version(db) -> None:
    tag = {"id": "a", "type": "tag", "tags": ["x"]}
    wait = {"id": "w", "type": "wait", "duration": {"days": 1}}
    automation_id = await published(db, [tag, wait])
    [contact_id] = await new_contacts(db, 1)
    await enrol(db, automation_id, [contact_id])
    await db.commit()
    await run(db)  # tagged, now waiting
    await db.execute(text("UPDATE contacts SET tags = '{}' WHERE id = :c"), {"c": contact_id})
    await automations.update_draft(db, automation_id, {"steps": [wait, tag]})  # the tag now follows the wait
    await automations.publish(db, automation_id, move_existing=True)
    await db.commit()
    await make_due(db, automation_id)
    await run(db)

    assert await tags_of(db, [contact_id]) == {contact_id: []}  # step a ran once, in the first version
    assert [(r["status"], r["version_id"]) for r in await enrolments(db, automation_id)] == [
        ("completed", (await automations.get(db, automation_id)).current_version_id)
    ]
