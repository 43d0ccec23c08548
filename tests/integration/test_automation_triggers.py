"""Triggers enrol contacts into the automations whose trigger matches, where the thing happens: a
list joined (by staff, pasted, signed up, confirmed), a tag added or removed (one contact or in
bulk), a human open or click, a custom event, a score or stage; and the scheduled ones evaluated by
the tick: a date field, not opening for N days, entering a segment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy import text

from tests.support.automations import new_contacts, published
from tests.support.conversions import OFFER, sent_to
from tests.support.imports import start, upload, uploaded_job_id
from webapp.automations.service import triggers
from webapp.contacts import service as contacts
from webapp.contacts.schemas import ContactFilter
from webapp.imports.service.loader import run_import
from webapp.lists.models import EmailList
from webapp.lists.service import lists
from webapp.tracking.service import hits

TAG_STEP = [{"type": "tag", "tags": ["entered"]}]
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
APPLE_PROXY = "Mozilla/5.0"  # Apple Mail Privacy Protection's fetch: a machine open


async def triggered_by(db, **trigger) -> int:
    return await published(db, TAG_STEP, trigger=trigger)


async def enrolled(db, automation_id: int) -> list[int]:
    rows = await db.scalars(
        text("SELECT contact_id FROM automation_enrolments WHERE automation_id = :a ORDER BY contact_id"),
        {"a": automation_id},
    )
    return list(rows)


async def static_list(db, name: str) -> int:
    email_list = EmailList(name=name)
    db.add(email_list)
    await db.flush()
    return email_list.id


async def test_joining_a_list_enrols_into_the_automations_of_that_list_only(db) -> None:
    news, offers = await static_list(db, "News"), await static_list(db, "Offers")
    on_news = await triggered_by(db, kind="list_joined", list_id=news)
    on_offers = await triggered_by(db, kind="list_joined", list_id=offers)
    first, second, pasted = await new_contacts(db, 3)

    assert await lists.add_members(db, news, [first, second]) == 2
    await lists.add_by_email(db, news, {"addresses": "c3@example.com"})

    assert await enrolled(db, on_news) == [first, second, pasted]
    assert await enrolled(db, on_offers) == []


async def test_a_tag_added_or_removed_one_contact_or_in_bulk_enrols_into_its_automations(db) -> None:
    on_added = await triggered_by(db, kind="tag_added", tag="vip")
    on_removed = await triggered_by(db, kind="tag_removed", tag="vip")
    on_other = await triggered_by(db, kind="tag_added", tag="other")
    bulk = await new_contacts(db, 3)
    one = (await contacts.create_contact(db, {"email": "one@example.com", "tags": ["VIP"]})).id

    assert await contacts.add_tag(db, ContactFilter(condition=contacts.chosen(bulk[:2])), "vip") == 2
    assert await enrolled(db, on_added) == [*bulk[:2], one]

    await contacts.update_contact(db, one, {"tags": []})
    assert await contacts.remove_tag(db, bulk, "vip") == 2
    assert await enrolled(db, on_removed) == [*bulk[:2], one]
    assert await enrolled(db, on_other) == []


async def test_human_opens_and_clicks_enrol_but_machine_opens_do_not(db) -> None:
    person = await sent_to(db, "reader@example.com")
    proxied = await sent_to(db, "proxied@example.com", name="Another")
    await db.execute(text("UPDATE deliveries SET sent_at = now() - interval '1 hour'"))  # sooner: a scanner's
    on_open = await triggered_by(db, kind="email_opened", campaign_id=person.campaign_id)
    on_any_open = await triggered_by(db, kind="email_opened")
    on_offer = await triggered_by(db, kind="link_clicked", url=OFFER)
    on_elsewhere = await triggered_by(db, kind="link_clicked", url="https://example.com/elsewhere")

    await hits.apply(db, [hits.new_hit("open", proxied.delivery_id, None, APPLE_PROXY)])
    assert await enrolled(db, on_any_open) == []
    await hits.apply(db, [hits.new_hit("click", person.delivery_id, person.link_id, BROWSER)])

    assert await enrolled(db, on_open) == [person.contact_id]
    assert await enrolled(db, on_any_open) == [person.contact_id]
    assert await enrolled(db, on_offer) == [person.contact_id]
    assert await enrolled(db, on_elsewhere) == []


async def test_custom_events_scores_and_stages_enrol_when_signalled(db) -> None:
    buyer, lead, star = await new_contacts(db, 3)
    on_purchase = await triggered_by(db, kind="custom_event", name="purchase")
    on_score = await triggered_by(db, kind="score_changed", min_score=50)
    on_grade_a = await triggered_by(db, kind="score_changed", grade="A")
    on_mql = await triggered_by(db, kind="lifecycle_changed", stage="mql")

    await triggers.signal(db, "custom_event", [buyer], name="purchase")
    await triggers.signal(db, "custom_event", [lead], name="abandoned_cart")
    scores, grades = {buyer: 10, lead: 55, star: 85}, {buyer: "F", lead: "C", star: "A"}
    await triggers.signal(db, "score_changed", [buyer, lead, star], scores=scores, grades=grades)
    await triggers.signal(db, "lifecycle_changed", [lead], stage="mql")

    assert await enrolled(db, on_purchase) == [buyer]
    assert await enrolled(db, on_score) == [lead, star]
    assert await enrolled(db, on_grade_a) == [star]
    assert await enrolled(db, on_mql) == [lead]


async def test_a_date_field_enrols_on_its_day_before_after_and_yearly(db) -> None:
    today = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    birthday, renewal, other = await new_contacts(db, 3)
    await db.execute(
        text("""UPDATE contacts SET custom_fields = jsonb_build_object('birthday', '1990-12-05')
                             WHERE id = :b"""),
        {"b": birthday},
    )
    await db.execute(
        text("""UPDATE contacts SET custom_fields = jsonb_build_object('renewal', '2026-12-08',
                             'birthday', 'not a date') WHERE id = :r"""),
        {"r": renewal},
    )
    yearly = await triggered_by(db, kind="date_field", field="custom.birthday", yearly=True)
    three_days_before = await triggered_by(db, kind="date_field", field="custom.renewal", offset_days=-3)

    await triggers.evaluate_scheduled(db, today)
    assert await enrolled(db, yearly) == [birthday]
    assert await enrolled(db, three_days_before) == [renewal]
    await triggers.evaluate_scheduled(db, today + timedelta(hours=2))  # the same day: nobody again
    assert await enrolled(db, yearly) == [birthday]
    assert other not in await enrolled(db, yearly)


async def test_entering_a_segment_enrols_those_who_were_not_in_it_at_the_last_look(db) -> None:
    already, newcomer = await new_contacts(db, 2)
    await db.execute(text("UPDATE contacts SET company = 'Acme' WHERE id = :c"), {"c": already})
    rules = {"operator": "AND", "conditions": [{"field": "company", "op": "eq", "value": "Acme"}]}
    segment = EmailList(name="Acme people", list_type="dynamic", rules=rules)
    db.add(segment)
    await db.flush()
    on_segment = await triggered_by(db, kind="segment_entered", segment_id=segment.id)
    now = datetime.now(UTC)

    await triggers.evaluate_scheduled(db, now)  # the first look: who is in it already did not enter
    await db.execute(text("UPDATE contacts SET company = 'Acme' WHERE id = :c"), {"c": newcomer})
    await triggers.evaluate_scheduled(db, now + timedelta(seconds=10))  # too soon: not looked at again
    assert await enrolled(db, on_segment) == []
    await triggers.evaluate_scheduled(db, now + triggers.SCHEDULED_EVERY)

    assert await enrolled(db, on_segment) == [newcomer]


async def test_not_opening_a_campaign_for_n_days_enrols_once_the_days_have_passed(db) -> None:
    quiet = await sent_to(db, "quiet@example.com")
    reader = await sent_to(db, "reader@example.com", name="Autumn sale")
    sent = datetime.now(UTC) - timedelta(days=2, hours=23)
    await db.execute(text("UPDATE deliveries SET sent_at = :s"), {"s": sent})
    await hits.apply(db, [hits.new_hit("open", reader.delivery_id, None, BROWSER)])
    on_quiet = await triggered_by(db, kind="not_opened", days=3, campaign_id=quiet.campaign_id)
    on_reader_campaign = await triggered_by(db, kind="not_opened", days=3, campaign_id=reader.campaign_id)
    now = datetime.now(UTC)

    await triggers.evaluate_scheduled(db, now)
    await triggers.evaluate_scheduled(db, now + timedelta(hours=2))

    assert await enrolled(db, on_quiet) == [quiet.contact_id]
    assert await enrolled(db, on_reader_campaign) == []


async def test_an_import_tags_and_joins_a_list_and_the_tick_enrols_them(db, staff) -> None:
    members = await static_list(db, "Imported")
    on_list = await triggered_by(db, kind="list_joined", list_id=members)
    on_tag = await triggered_by(db, kind="tag_added", tag="fair")
    (known,) = await new_contacts(db, 1, prefix="known")
    await db.execute(text("UPDATE contacts SET tags = '{fair}' WHERE id = :k"), {"k": known})
    await db.commit()
    client = await staff("editor")
    body = b"email,tags\nknown1@example.com,fair\nnew@example.com,fair\nother@example.com,\n"
    job_id = uploaded_job_id(upload(client, body))
    assert start(client, job_id, {0: "email", 1: "tags"}, mode="list", list_id=str(members)).status_code == 303
    assert await anyio.to_thread.run_sync(run_import, job_id) == "done"
    assert await enrolled(db, on_list) == []  # the import's transactions queue the signals for the tick

    await triggers.apply_queued(db)

    imported = dict((await db.execute(text("SELECT email, id FROM contacts"))).all())
    everyone = sorted(imported[e] for e in ("known1@example.com", "new@example.com", "other@example.com"))
    assert await enrolled(db, on_list) == everyone
    assert await enrolled(db, on_tag) == [imported["new@example.com"]]  # known1 had the tag already


async def test_the_worker_checks_scheduled_triggers_in_a_job_of_its_own_beside_the_tick(db, worker) -> None:
    (birthday,) = await new_contacts(db, 1)
    await db.execute(
        text("UPDATE contacts SET custom_fields = jsonb_build_object('birthday', CAST(:d AS text)) WHERE id = :c"),
        {"d": datetime.now(UTC).date().isoformat(), "c": birthday},
    )
    on_birthday = await triggered_by(db, kind="date_field", field="custom.birthday")  # committed
    worker()
    with anyio.fail_after(30):
        while await enrolled(db, on_birthday) != [birthday]:
            await db.commit()  # a fresh snapshot for the next look
            await anyio.sleep(0.2)
    await db.commit()
    checks = "SELECT count(*) FROM automation_trigger_checks WHERE automation_id = :a AND problem = ''"
    assert await db.scalar(text(checks), {"a": on_birthday}) == 1
