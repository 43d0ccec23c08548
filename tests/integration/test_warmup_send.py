"""Campaigns sent under a warm-up plan, through real worker processes to a real SMTP server: today's
maximum holds and the rest waits for the next day (pending, never failed), the most engaged
recipients go first, and a plan whose bounce rate passes its threshold holds everything back until
a staff member releases it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.integration.test_send_faults import wait_until
from tests.support.campaigns import audience, delivery_counts, ready_campaign, smtp_server, wait_for_status
from tests.support.esp_apis import add_provider, esp_api
from tests.support.smtp import SmtpSink
from tests.support.warmup import domain_plan, plan_form, transport_plan
from webapp.campaigns.service import campaigns
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.feedback import service as feedback
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.warmup.models import WarmupPlan
from webapp.warmup.service import create_plan, holds
from webapp.warmup.service.quota import counter_key, held_key, publish_hold
from webapp.warmup.service.schedule import next_day_start


async def send_campaign(db, list_id: int) -> int:
    campaign_id = (await ready_campaign(db, [list_id])).id
    await campaigns.send_now(db, campaign_id)
    await db.commit()
    return campaign_id


async def wait_for_no_claims(db, campaign_id: int) -> None:
    """Until none of the campaign's deliveries is claimed: what went is recorded, the rest given back."""
    for _ in range(600):
        counts = await delivery_counts(db, campaign_id)
        if "sending" not in counts:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries still claimed: {counts}")


async def test_todays_maximum_goes_and_the_rest_waits_for_the_next_day(db, worker, staff):
    with SmtpSink() as sink:
        email_list = await audience(db, 12)
        await smtp_server(db, sink.port)
        await domain_plan(db, first_day=5)
        campaign_id = await send_campaign(db, email_list.id)
        worker(MAILROOM_SEND_BATCH_SIZE="4")
        await wait_until(db, campaign_id, lambda c: c.sent_count == 5)
        await wait_for_no_claims(db, campaign_id)
        assert len(sink.messages) == 5

    assert await delivery_counts(db, campaign_id) == {"sent": 5, "pending": 7}
    rows = (
        await db.execute(
            text("SELECT error_message, next_attempt_at FROM deliveries WHERE campaign_id = :c AND status = 'pending'"),
            {"c": campaign_id},
        )
    ).all()
    tomorrow = next_day_start(datetime.now(UTC).date())
    for error, next_attempt_at in rows:
        assert "sent its 5 messages for today" in error
        assert tomorrow <= next_attempt_at <= tomorrow + timedelta(seconds=2)
    campaign = await wait_for_status(db, campaign_id, {"sending"})
    assert campaign.failed_count == 0
    page = (await staff("viewer")).get(f"/campaigns/{campaign_id}").text  # no estimate from the rate
    assert f'class="progress-eta"><a href="#campaign-{campaign_id}-warmup">Set by warm-up</a><' in page
    assert f'id="campaign-{campaign_id}-warmup-rest">7 messages will go from' in page


async def test_a_new_servers_plan_caps_what_it_sends_and_the_rest_waits_for_the_next_day(db, worker):
    with SmtpSink() as sink:
        email_list = await audience(db, 12)
        server = await smtp_server(db, sink.port)
        await transport_plan(db, first_day=5, smtp_server_id=server.id)
        campaign_id = await send_campaign(db, email_list.id)
        worker(MAILROOM_SEND_BATCH_SIZE="4", MAILROOM_PAUSE_AFTER_FAILURES="3")
        await wait_until(db, campaign_id, lambda c: c.sent_count == 5)
        await wait_for_no_claims(db, campaign_id)
        assert len(sink.messages) == 5

    assert await delivery_counts(db, campaign_id) == {"sent": 5, "pending": 7}
    tomorrow = next_day_start(datetime.now(UTC).date())
    waiting = await db.scalars(
        text("SELECT next_attempt_at FROM deliveries WHERE campaign_id = :c AND status = 'pending'"), {"c": campaign_id}
    )
    assert all(tomorrow <= at <= tomorrow + timedelta(seconds=2) for at in waiting)
    assert (await wait_for_status(db, campaign_id, {"sending"})).failed_count == 0


async def test_past_a_new_servers_maximum_the_established_server_takes_the_rest(db, worker):
    with SmtpSink() as new, SmtpSink() as established:
        email_list = await audience(db, 12)
        new_server = await smtp_server(db, new.port, name="new IP", priority=0)
        await smtp_server(db, established.port, name="established", priority=1)
        await transport_plan(db, first_day=5, smtp_server_id=new_server.id)
        campaign_id = await send_campaign(db, email_list.id)
        worker()
        await wait_for_status(db, campaign_id, {"sent"})
        assert (len(new.messages), len(established.messages)) == (5, 7)


async def test_a_providers_plan_caps_what_goes_through_its_api(db, worker):
    with esp_api("postmark") as api:
        provider_id = (await add_provider(db, api, batch_size=10)).id
        await transport_plan(db, first_day=7, provider_id=provider_id)
        email_list = await audience(db, 20)
        campaign_id = await send_campaign(db, email_list.id)
        worker()
        await wait_until(db, campaign_id, lambda c: c.sent_count == 7)
        await wait_for_no_claims(db, campaign_id)
        assert len(api.taken) == 7

    assert await delivery_counts(db, campaign_id) == {"sent": 7, "pending": 13}
    error = await db.scalar(text("SELECT error_message FROM deliveries WHERE status = 'pending' LIMIT 1"))
    assert "sent its 7 messages for today" in error


async def test_recent_human_openers_and_clickers_go_first(db, worker):
    email_list = await audience(db, 10)
    opened = {  # contact email -> days since its latest human open or click
        "person7@example.com": 1,
        "person3@example.com": 3,
        "person9@example.com": 10,
    }
    for address, days in opened.items():
        await db.execute(
            text("""INSERT INTO email_events (contact_id, kind, at, machine)
                    SELECT id, 'click', now() - make_interval(days => :d), false FROM contacts WHERE email = :e"""),
            {"e": address, "d": days},
        )
    # a machine open (a prefetch) and an open long ago do not count
    await db.execute(
        text("""INSERT INTO email_events (contact_id, kind, at, machine)
                SELECT id, 'open', now(), true FROM contacts WHERE email = 'person5@example.com'
                UNION ALL
                SELECT id, 'open', now() - interval '200 days', false
                FROM contacts WHERE email = 'person6@example.com'""")
    )
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await domain_plan(db, first_day=4)
        campaign_id = await send_campaign(db, email_list.id)
        worker(MAILROOM_SEND_BATCH_SIZE="10")
        await wait_until(db, campaign_id, lambda c: c.sent_count == 4)
        await wait_for_no_claims(db, campaign_id)
        received = sink.handler.recipients()

    # the three engaged, most recent first, then the first of the others by contact
    assert sorted(received) == sorted([*opened, "person0@example.com"])
    order = await db.scalars(
        text("SELECT email FROM deliveries WHERE campaign_id = :c ORDER BY id LIMIT 5"), {"c": campaign_id}
    )
    assert list(order) == [*opened, "person0@example.com", "person1@example.com"]


async def test_a_campaign_without_a_plan_keeps_contact_order_and_no_limit(db, worker):
    with SmtpSink() as sink:
        email_list = await audience(db, 6)
        await smtp_server(db, sink.port)
        await domain_plan(db, first_day=2, from_domain="other.example", name="Other domain")
        campaign_id = await send_campaign(db, email_list.id)
        worker()
        await wait_for_status(db, campaign_id, {"sent"})
        received = sink.handler.recipients()
    assert sorted(received) == sorted(f"person{i}@example.com" for i in range(6)), received


def refuse_odd(address: str, attempt: int) -> str | None:
    number = int(address.removeprefix("person").split("@")[0])
    return "550 5.1.1 No such user" if number % 2 else None


async def test_a_plan_over_its_bounce_rate_holds_everything_back_until_released(db, worker, staff):
    with SmtpSink(refuse_odd) as sink:
        list_id = (await audience(db, 10)).id
        await smtp_server(db, sink.port)
        plan_id = (await domain_plan(db, first_day=1000, bounce_threshold="20", min_sample="10")).id
        first = await send_campaign(db, list_id)
        worker(MAILROOM_SCHEDULER_INTERVAL="1")
        await wait_for_status(db, first, {"sent"})
        assert len(sink.messages) == 5  # the other five were refused: a bounce rate of 50 %

        async def held() -> WarmupPlan:
            for _ in range(300):
                db.expire_all()
                found = await db.get(WarmupPlan, plan_id)
                if found.held_at is not None:
                    return found
                await asyncio.sleep(0.1)
            raise AssertionError("the plan was not held back")

        assert "bounce rate reached 50.0 % (5 of 10 messages)" in (await held()).held_reason

        second = await send_campaign(db, list_id)  # the five still mailable
        for _ in range(300):
            errors = list(
                await db.scalars(
                    text("SELECT error_message FROM deliveries WHERE campaign_id = :c AND status = 'pending'"),
                    {"c": second},
                )
            )
            if len(errors) == 5 and all(e.startswith(f"Held back by warm-up plan #{plan_id} ") for e in errors):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"not held back: {errors}")
        assert len(sink.messages) == 5

        client = await staff("editor")
        response = client.post(f"/warmup/{plan_id}/release")
        assert response.status_code == 303
        await wait_for_status(db, second, {"sent"})
        assert len(sink.messages) == 10

    db.expire_all()
    released = await db.get(WarmupPlan, plan_id)
    assert released.held_at is None and released.released_by == "Editor"


async def test_days_of_waiting_use_up_no_attempts(db, worker):
    """A message may wait many days for room under a plan: the waits are not failed tries, so a
    temporary failure after them is tried again as often as any other message's."""
    with SmtpSink() as sink:
        email_list = await audience(db, 3)
        await smtp_server(db, sink.port)
        plan_id = (await domain_plan(db, first_day=1)).id
        campaign_id = await send_campaign(db, email_list.id)
        worker()
        for day in (1, 2):
            await wait_until(db, campaign_id, lambda c, day=day: c.sent_count == day)
            await wait_for_no_claims(db, campaign_id)
            # the next day: the plan's count starts again and the waiting messages are due
            await get_redis().delete(counter_key(plan_id, datetime.now(UTC).date()))
            await db.execute(text("UPDATE deliveries SET next_attempt_at = now() WHERE status = 'pending'"))
            await db.commit()
        await wait_for_status(db, campaign_id, {"sent"})
        assert len(sink.messages) == 3
    attempts = await db.scalars(text("SELECT attempts FROM deliveries WHERE campaign_id = :c"), {"c": campaign_id})
    assert sorted(attempts) == [1, 1, 1]


async def test_complaints_about_a_servers_mail_hold_its_plan_back(db, worker):
    with SmtpSink() as sink:
        email_list = await audience(db, 10)
        server = await smtp_server(db, sink.port)
        plan_id = (
            await create_plan(
                db,
                plan_form(
                    scope="smtp_server",
                    smtp_server_id=server.id,
                    from_domain="",
                    min_sample="10",
                    complaint_threshold="5",
                ),
            )
        ).id
        campaign_id = await send_campaign(db, email_list.id)
        sender = worker()
        await wait_for_status(db, campaign_id, {"sent"})
    sender.stop()  # else its scheduler tick may hold the plan before the call below does
    message_id = await db.scalar(text("SELECT message_id FROM deliveries WHERE email = 'person3@example.com'"))
    complaint = FeedbackEvent(
        source=FeedbackSource.GENERIC,
        source_id="c1",
        kind=FeedbackKind.COMPLAINED,
        email="person3@example.com",
        at=datetime.now(UTC),
        message_id=message_id,
    )
    await feedback.record(db, [complaint])
    await db.commit()

    assert [plan.id for plan in await holds.hold_over_thresholds(db)] == [plan_id]
    plan = await db.get(WarmupPlan, plan_id)
    assert "complaint rate reached 10.00 % (1 of 10 messages)" in plan.held_reason
    assert await holds.hold_over_thresholds(db) == []  # held once


async def test_a_released_servers_plan_lets_its_held_messages_go_at_once(db, worker, staff):
    with SmtpSink() as sink:
        email_list = await audience(db, 4)
        server = await smtp_server(db, sink.port)
        plan = await transport_plan(db, first_day=100, smtp_server_id=server.id)
        plan.held_at, plan.held_reason = datetime.now(UTC), "The bounce rate reached 9.0 %."
        await publish_hold(plan)  # as the tick that held it does
        plan_id = plan.id
        campaign_id = await send_campaign(db, email_list.id)
        worker()
        for _ in range(300):
            errors = list(await db.scalars(text("SELECT error_message FROM deliveries WHERE status = 'pending'")))
            if len(errors) == 4 and all(f"Held back by warm-up plan #{plan_id} " in e for e in errors):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"not held back: {errors}")
        assert sink.messages == []

        assert (await staff("editor")).post(f"/warmup/{plan_id}/release").status_code == 303
        await wait_for_status(db, campaign_id, {"sent"}, timeout=60)  # not the five minutes of a held plan's wait
        assert len(sink.messages) == 4


async def test_a_tick_meanwhile_cannot_tell_the_send_engine_a_released_plan_is_held(db):
    """The scheduler tick tells Redis whether each plan is held. A tick that read the plan before a
    release committed and wrote "held" after the release's own write would hold its messages again."""
    plan = await domain_plan(db, first_day=100)
    plan.held_at, plan.held_reason = datetime.now(UTC), "The bounce rate reached 50.0 %."
    await db.commit()
    await publish_hold(plan)
    async with get_sessionmaker()() as releasing:
        await holds.release(releasing, plan.id, "Editor")  # told Redis, not committed yet

        async def tick() -> None:
            async with get_sessionmaker()() as session:
                await holds.hold_over_thresholds(session)
                await session.commit()

        ticking = asyncio.create_task(tick())
        await asyncio.sleep(0.5)
        assert not ticking.done()  # it waits for the release to end before telling anything
        await releasing.commit()
    await asyncio.wait_for(ticking, 10)
    assert await get_redis().exists(held_key(plan.id)) == 0
