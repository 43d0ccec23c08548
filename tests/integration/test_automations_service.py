"""Automations, their versions and enrolments (service level, real PostgreSQL): the flow's
validation naming each path, publishing and moving enrolments between versions, and enrolling
set-based with the re-entry rules and without unmailable contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.support.automation_mail import email_template
from tests.support.automations import MANUAL, enrolments, new_contacts, published
from webapp.automations.service import automations, engine
from webapp.automations.service.enrolments import enrol, remove
from webapp.automations.service.steps import EXECUTORS
from webapp.core.errors import Conflict, ValidationFailed
from webapp.settings.service import organisation as org_settings
from webapp.suppression.service.suppression import add as suppress

WAIT_DAY = {"id": "wait", "type": "wait", "duration": {"days": 1}}
TAG = {"id": "tag", "type": "tag", "tags": ["welcomed"]}

HAS_VIP = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}


async def test_flow_problems_are_named_by_their_path(db) -> None:
    steps = [
        {"type": "teleport"},
        {
            "id": "check",
            "type": "condition",
            "rules": {"operator": "AND", "conditions": [{"field": "nope", "op": "eq", "value": 1}]},
            "yes": [{"type": "send_email", "subject": "Hi"}],
            "no": [{"id": "check", "type": "tag", "tags": []}],
        },
        {"type": "wait", "duration": {"days": 1}, "weekdays": [1], "time": "09:00"},
        {"type": "update_field", "field": "9 lives", "value": "x"},
        {"type": "tag", "tags": ["a"], "skip_if": {"operator": "XOR", "conditions": []}},
    ]
    with pytest.raises(ValidationFailed) as failed:
        await automations.create(db, {"name": "", "trigger": {"kind": "list_joined"}, "steps": steps})
    assert set(failed.value.errors) == {
        "name",
        "trigger.list_id",
        "steps.0.type",
        "steps.1.rules.conditions[0].field",
        "steps.1.yes.0.template_id",
        "steps.1.no.0.tags",
        "steps.2.duration",
        "steps.3.field",
        "steps.4.skip_if.operator",
    }


async def test_step_ids_are_unique_in_the_whole_flow_and_given_when_missing(db) -> None:
    branch = {"id": "a", "type": "condition", "rules": HAS_VIP}
    with pytest.raises(ValidationFailed) as failed:
        await automations.create(
            db, {"name": "x", "trigger": MANUAL, "steps": [{**branch, "yes": [{**TAG, "id": "a"}]}]}
        )
    assert failed.value.errors == {"steps.0.yes.0.id": "Another step has the id a."}

    automation = await automations.create(
        db, {"name": "x", "trigger": MANUAL, "steps": [{"type": "untag", "tags": "A"}]}
    )
    draft = await automations.draft_of(db, automation)
    assert draft.steps == [{"type": "untag", "tags": ["a"], "id": draft.steps[0]["id"], "skip_if": None}]


async def test_a_step_must_name_things_that_exist(db) -> None:
    steps = [{"type": "add_to_list", "list_id": 999}, {"type": "webhook", "endpoint_id": 998}]
    with pytest.raises(ValidationFailed) as failed:
        await automations.create(db, {"name": "x", "trigger": MANUAL, "steps": steps})
    assert failed.value.errors == {
        "steps.0.list_id": "No such static list.",
        "steps.1.endpoint_id": "No such webhook endpoint.",
    }


async def test_publish_needs_steps_that_can_run(db, monkeypatch) -> None:
    empty = await automations.create(db, {"name": "x", "trigger": MANUAL})
    with pytest.raises(ValidationFailed) as failed:
        await automations.publish(db, empty.id)
    assert failed.value.errors == {"steps": "Add at least one step before publishing."}

    monkeypatch.delitem(EXECUTORS, "tag")
    tagging = await automations.create(db, {"name": "y", "trigger": MANUAL, "steps": [WAIT_DAY, TAG]})
    with pytest.raises(ValidationFailed) as failed:
        await automations.publish(db, tagging.id)
    assert failed.value.errors == {"steps.1.type": "tag steps are not available yet."}


NO_SEGMENT = "No segment has this id (a static list has no rules to enter by)."
EVENT_NAME_MESSAGE = "Enter the event's name as programs send it: letters, digits and _ . : - (e.g. purchase)."


@pytest.mark.parametrize(
    ("trigger", "errors"),
    [
        ({"kind": "list_joined", "list_id": 99999999}, {"trigger.list_id": "No list has this id."}),
        ({"kind": "email_opened", "campaign_id": 99999999}, {"trigger.campaign_id": "No campaign has this id."}),
        ({"kind": "segment_entered", "segment_id": 99999999}, {"trigger.segment_id": NO_SEGMENT}),
        (
            {"kind": "custom_event", "name": "has space"},
            {"trigger.name": EVENT_NAME_MESSAGE},
        ),
    ],
)
async def test_a_trigger_that_could_never_fire_is_refused_naming_its_field(db, trigger, errors) -> None:
    with pytest.raises(ValidationFailed) as failed:
        await automations.create(db, {"name": "x", "trigger": trigger})
    assert failed.value.errors == errors
    kept = await automations.create(db, {"name": "y", "trigger": MANUAL})
    with pytest.raises(ValidationFailed) as failed:
        await automations.update_draft(db, kept.id, {"trigger": trigger})
    assert failed.value.errors == errors


async def test_a_static_list_is_no_segment_to_enter(db) -> None:
    static = (await db.execute(text("INSERT INTO email_lists (name) VALUES ('Static') RETURNING id"))).scalar_one()
    with pytest.raises(ValidationFailed) as failed:
        await automations.create(db, {"name": "x", "trigger": {"kind": "segment_entered", "segment_id": static}})
    assert failed.value.errors == {"trigger.segment_id": NO_SEGMENT}


async def test_a_condition_or_goal_without_a_condition_is_refused(db) -> None:
    """With none, every contact matches: the "no" branch could never be taken, the goal met at once."""
    everyone = {"operator": "AND", "conditions": []}
    steps = [{"type": "condition", "rules": everyone, "no": [TAG]}, {"type": "goal", "rules": everyone}]
    with pytest.raises(ValidationFailed) as failed:
        await automations.create(db, {"name": "x", "trigger": MANUAL, "steps": steps})
    message = "Add at least one condition: with none, every contact matches."
    assert failed.value.errors == {"steps.0.rules": message, "steps.1.rules": message}


async def test_an_email_step_is_published_only_once_the_organisation_can_send(db) -> None:
    """Its messages name the organisation, show its postal address and come from its default From
    address; without one the server would refuse the sender."""
    template_id = await email_template(db)
    await org_settings.save(db, org_settings.OrgSettings())
    email = {"id": "mail", "type": "send_email", "template_id": template_id}
    emailing = await automations.create(db, {"name": "x", "trigger": MANUAL, "steps": [email]})
    with pytest.raises(ValidationFailed) as failed:
        await automations.publish(db, emailing.id)
    assert set(failed.value.errors) == {"organisation_name", "postal_address", "default_from_email"}
    assert "default From address, which is not set" in failed.value.errors["default_from_email"]
    tagging = await automations.create(db, {"name": "y", "trigger": MANUAL, "steps": [TAG]})
    await automations.publish(db, tagging.id)  # no email: nothing needed

    await email_template(db)  # saves the settings an email needs
    await automations.publish(db, emailing.id)


async def test_publishing_activates_and_new_enrolments_take_the_new_version(db) -> None:
    automation_id = await published(db, [WAIT_DAY])
    first = await automations.get(db, automation_id)
    assert first.status == "active"
    first_version = first.current_version_id
    await automations.update_draft(db, automation_id, {"steps": [WAIT_DAY, TAG]})
    [early] = await new_contacts(db, 1, "early")
    assert await enrol(db, automation_id, [early]) == 1  # still the first version: the draft is not live

    second = await automations.publish(db, automation_id)
    [late] = await new_contacts(db, 1, "late")
    assert await enrol(db, automation_id, [late]) == 1
    await db.commit()
    rows = {row["contact_id"]: row for row in await enrolments(db, automation_id)}
    assert rows[early]["version_id"] == first_version
    assert rows[late]["version_id"] == second.id
    with pytest.raises(Conflict):
        await automations.publish(db, automation_id)  # nothing changed since


async def test_moving_enrolments_keeps_their_step_or_goes_on_from_the_next_surviving_one(db) -> None:
    steps = [
        {"id": "one", "type": "tag", "tags": ["one"]},
        {"id": "two", "type": "tag", "tags": ["two"]},
        {"id": "three", "type": "tag", "tags": ["three"]},
        {"id": "four", "type": "tag", "tags": ["four"]},
    ]
    automation_id = await published(db, steps)
    on_one, on_two, on_four = await new_contacts(db, 3)
    await enrol(db, automation_id, [on_one, on_two, on_four])
    later = datetime.now(UTC) + timedelta(days=3)
    for contact_id, step_id in ((on_two, "two"), (on_four, "four")):
        await db.execute(
            text("UPDATE automation_enrolments SET step_id = :s, due_at = :d WHERE contact_id = :c"),
            {"s": step_id, "d": later, "c": contact_id},
        )
    await automations.update_draft(db, automation_id, {"steps": [steps[0], steps[2]]})  # two and four go
    new = await automations.publish(db, automation_id, move_existing=True)
    await db.commit()

    rows = {row["contact_id"]: row for row in await enrolments(db, automation_id)}
    assert {c: (r["version_id"], r["step_id"], r["status"]) for c, r in rows.items()} == {
        on_one: (new.id, "one", "active"),
        on_two: (new.id, "three", "active"),
        on_four: (rows[on_four]["version_id"], None, "completed"),
    }
    assert rows[on_one]["due_at"] < later  # kept its due time
    assert rows[on_two]["due_at"] < later  # the next step is due at once


async def test_without_moving_enrolments_finish_on_their_version(db) -> None:
    automation_id = await published(db, [WAIT_DAY, TAG])
    contact_ids = await new_contacts(db, 2)
    await enrol(db, automation_id, contact_ids)
    first_version = (await automations.get(db, automation_id)).current_version_id
    await automations.update_draft(db, automation_id, {"steps": [TAG]})
    await automations.publish(db, automation_id)
    await db.commit()
    assert {(r["version_id"], r["step_id"]) for r in await enrolments(db, automation_id)} == {(first_version, "wait")}


@pytest.mark.parametrize(
    ("reentry", "days_since_last", "entered_again"),
    [("once", 400, False), ("always", 0, True), ("every_n_days", 6, False), ("every_n_days", 8, True)],
)
async def test_reentry_rules(db, reentry, days_since_last, entered_again) -> None:
    automation_id = await published(db, [WAIT_DAY], reentry=reentry, reentry_days=7)
    [contact_id] = await new_contacts(db, 1)
    assert await enrol(db, automation_id, [contact_id]) == 1
    assert await enrol(db, automation_id, [contact_id]) == 0  # never twice at once
    await db.execute(
        text("""UPDATE automation_enrolments SET status = 'completed', step_id = NULL,
                enrolled_at = now() - make_interval(days => :d) WHERE contact_id = :c"""),
        {"d": days_since_last, "c": contact_id},
    )
    assert await enrol(db, automation_id, [contact_id]) == int(entered_again)
    await db.commit()
    runs = [row["run"] for row in await enrolments(db, automation_id)]
    assert runs == ([1, 2] if entered_again else [1])


async def test_unmailable_contacts_are_never_enrolled(db) -> None:
    automation_id = await published(db, [WAIT_DAY])
    [mailable] = await new_contacts(db, 1, "ok")
    [unsubscribed] = await new_contacts(db, 1, "unsub", status="unsubscribed")
    [bounced] = await new_contacts(db, 1, "bounced", status="bounced")
    [pending] = await new_contacts(db, 1, "pending", status="pending")
    [suppressed] = await new_contacts(db, 1, "suppressed")
    await suppress(db, "suppressed1@example.com", "manual")
    everyone = [mailable, unsubscribed, bounced, pending, suppressed]
    assert await enrol(db, automation_id, everyone) == 1
    await db.commit()
    assert [row["contact_id"] for row in await enrolments(db, automation_id)] == [mailable]


async def test_only_an_active_automation_takes_contacts_in(db) -> None:
    draft = await automations.create(db, {"name": "x", "trigger": MANUAL, "steps": [WAIT_DAY]})
    [contact_id] = await new_contacts(db, 1)
    assert await enrol(db, draft.id, [contact_id]) == 0
    automation_id = await published(db, [WAIT_DAY])
    await automations.pause(db, automation_id)
    assert await enrol(db, automation_id, [contact_id]) == 0
    await automations.resume(db, automation_id)
    assert await enrol(db, automation_id, [contact_id]) == 1


async def test_removing_and_archiving_end_active_runs(db) -> None:
    automation_id = await published(db, [WAIT_DAY])
    kept, removed = await new_contacts(db, 2)
    await enrol(db, automation_id, [kept, removed])
    assert await remove(db, automation_id, [removed]) == 1
    assert await remove(db, automation_id, [removed]) == 0
    await automations.archive(db, automation_id)
    await db.commit()
    assert [(r["status"], r["exit_reason"], r["step_id"]) for r in await enrolments(db, automation_id)] == [
        ("exited", "archived", "wait"),  # the step each left from
        ("removed", "removed", "wait"),
    ]
    with pytest.raises(Conflict):
        await automations.update_draft(db, automation_id, {"name": "again"})


async def test_a_deleted_contacts_enrolments_and_step_runs_go_with_it(db) -> None:
    automation_id = await published(db, [TAG, WAIT_DAY])
    erased, kept = await new_contacts(db, 2)
    await enrol(db, automation_id, [erased, kept])
    await db.commit()
    await engine.run_batch(db, 10, None)
    await db.execute(text("DELETE FROM contacts WHERE id = :c"), {"c": erased})
    await db.commit()

    assert [row["contact_id"] for row in await enrolments(db, automation_id)] == [kept]
    runs = await db.execute(
        text(
            "SELECT e.contact_id FROM automation_step_runs r LEFT JOIN automation_enrolments e ON e.id = r.enrolment_id"
        )
    )
    assert [contact_id for (contact_id,) in runs] == [kept, kept]  # its tag and its wait
