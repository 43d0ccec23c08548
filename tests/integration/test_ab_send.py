"""An A/B test through the send pipeline: real worker processes, PostgreSQL, Redis and an SMTP sink.
The test share is split evenly at random, the rest is held back; after the wait the winner (or
the fallback, or a person's choice) goes to the rest, once, and the campaign completes."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.integration.test_analytics_rollups import THUNDERBIRD, hit
from tests.support.campaigns import audience, delivery_counts, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.abtests import service as abtests
from webapp.abtests.service import sending as ab_sending
from webapp.campaigns.service import campaigns, sending
from webapp.core.db import get_sessionmaker
from webapp.core.errors import Conflict
from webapp.tracking.service import hits

VARIANTS = [
    {"label": "A", "subject": "Subject A for {{ first_name }}", "preheader": "Read A first, {{ first_name }} & co"},
    {"label": "B", "subject": "Subject B for {{ first_name }}"},
]


async def ab_campaign(db, recipients: int, **test_fields) -> tuple[int, int, dict[str, int]]:
    """A ready campaign that is an A/B test of VARIANTS: (campaign id, test id, variant id by label)."""
    email_list = await audience(db, recipients)
    campaign = await ready_campaign(db, [email_list.id])
    test = await abtests.create_test(
        db, {"campaign_id": campaign.id, "variants": VARIANTS, "wait_minutes": 15, **test_fields}
    )
    variants = (await abtests.variants_of(db, [test.id]))[test.id]
    return campaign.id, test.id, {v.label: v.id for v in variants}


async def wait_for_test(db, test_id: int, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        row = (await db.execute(text("SELECT * FROM ab_tests WHERE id = :t"), {"t": test_id})).mappings().one()
        await db.commit()
        if row["status"] == status:
            return dict(row)
        assert time.monotonic() < deadline, f"test still {row['status']} after {timeout}s"
        await asyncio.sleep(0.2)


async def opens(db, campaign_id: int, variant_id: int, how_many: int) -> None:
    """`how_many` recipients of the variant open the message in a desktop mail client (a person), an
    hour after it was sent (an open seconds after sending is a machine's)."""
    delivery_ids = await db.scalars(
        text("""UPDATE deliveries SET sent_at = now() - interval '1 hour'
                WHERE id IN (SELECT id FROM deliveries WHERE campaign_id = :c AND ab_variant_id = :v
                             ORDER BY id LIMIT :n)
                RETURNING id"""),
        {"c": campaign_id, "v": variant_id, "n": how_many},
    )
    await hits.apply(db, [hit("open", d, THUNDERBIRD, at=datetime.now(UTC)) for d in delivery_ids])
    await db.commit()


async def end_wait(db, test_id: int) -> None:
    await db.execute(text("UPDATE ab_tests SET test_sent_at = now() - interval '1 hour' WHERE id = :t"), {"t": test_id})
    await db.commit()


def subjects(sink: SmtpSink) -> Counter[str]:
    return Counter(m["Subject"].split(" for ")[0] for m in sink.messages)


async def test_the_test_share_is_split_evenly_and_the_clear_winner_goes_to_the_rest(db, worker):
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        campaign_id, test_id, variant = await ab_campaign(db, 100, test_percent=20)
        await campaigns.send_now(db, campaign_id)
        await db.commit()
        worker()
        waiting = await wait_for_test(db, test_id, "waiting")
        assert waiting["test_sent_at"] is not None
        assert await delivery_counts(db, campaign_id) == {"sent": 20, "held": 80}
        assert subjects(sink) == {"Subject A": 10, "Subject B": 10}
        by_variant = dict((await db.execute(text(
            "SELECT ab_variant_id, count(*) FROM deliveries WHERE campaign_id = :c AND status = 'sent' "
            "GROUP BY ab_variant_id"), {"c": campaign_id})).all())  # fmt: skip
        assert by_variant == {variant["A"]: 10, variant["B"]: 10}
        message = next(m for m in sink.messages if m["Subject"].startswith("Subject A"))
        name = message["Subject"].removeprefix("Subject A for ")
        assert f"Read A first, {name} &amp; co</div>" in message.get_body(("html",)).get_content()  # personalised
        assert await db.scalar(text("SELECT status FROM campaigns WHERE id = :c"), {"c": campaign_id}) == "sending"

        await opens(db, campaign_id, variant["B"], 10)
        await end_wait(db, test_id)
        done = await wait_for_status(db, campaign_id, {"sent"})
        decided = await wait_for_test(db, test_id, "sent")

    assert done.sent_count == 100
    assert await delivery_counts(db, campaign_id) == {"sent": 90, "opened": 10}
    recipients = sink.handler.recipients()
    assert sorted(recipients) == sorted(f"person{i}@example.com" for i in range(100))  # each address once
    assert subjects(sink) == {"Subject A": 10, "Subject B": 90}, decided["decision_reason"]
    assert decided["chosen_variant_id"] == variant["B"]
    assert decided["decision_reason"].startswith("B is significantly better than every other variant")
    assert decided["decided_at"] is not None

    # The comparison stays the test's: B's send to the other 80 is not counted as B's result
    test = await abtests.get_test(db, test_id)
    variants = (await abtests.variants_of(db, [test_id]))[test_id]
    opens_decision, _ = await abtests.live_statistics(db, test, variants)
    assert {v.label: (v.trials, v.successes) for v in opens_decision.decision.variants} == {"A": (10, 0), "B": (10, 10)}
    assert opens_decision.decision.winner == "B"


async def test_without_a_significant_winner_the_fallback_is_sent(db, worker):
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        campaign_id, test_id, variant = await ab_campaign(db, 40, test_percent=50, fallback="control")
        await campaigns.send_now(db, campaign_id)
        await db.commit()
        worker()
        await wait_for_test(db, test_id, "waiting")
        await opens(db, campaign_id, variant["A"], 3)
        await opens(db, campaign_id, variant["B"], 4)
        await end_wait(db, test_id)
        await wait_for_status(db, campaign_id, {"sent"})
        decided = await wait_for_test(db, test_id, "sent")

    assert subjects(sink) == {"Subject A": 10 + 20, "Subject B": 10}
    assert decided["chosen_variant_id"] == variant["A"]
    assert decided["decision_reason"].startswith("No variant is significantly better")
    assert decided["decision_reason"].endswith("The control is sent.")


async def waiting_test(db, recipients: int = 20, **test_fields) -> tuple[int, int, dict[str, int]]:
    """An A/B campaign started in this process (no worker): split, its test share marked sent, waiting."""
    campaign_id, test_id, variant = await ab_campaign(db, recipients, **test_fields)
    await campaigns.send_now(db, campaign_id)
    await db.commit()
    async with get_sessionmaker()() as session:
        await sending.begin(session, campaign_id)
        await ab_sending.start(session, campaign_id)
        await session.commit()
    await db.execute(
        text("UPDATE deliveries SET status = 'sent', sent_at = now() WHERE campaign_id = :c AND status = 'pending'"),
        {"c": campaign_id},
    )
    await db.commit()
    async with get_sessionmaker()() as session:
        assert await ab_sending.holds_back(session, campaign_id)
        await session.commit()
    return campaign_id, test_id, variant


async def test_two_workers_deciding_at_once_release_the_held_deliveries_once(db):
    campaign_id, test_id, variant = await waiting_test(db)
    assert await delivery_counts(db, campaign_id) == {"sent": 4, "held": 16}
    await end_wait(db, test_id)

    async def decide() -> list[int]:
        async with get_sessionmaker()() as session:
            return await ab_sending.decide_due(session)

    first, second = await asyncio.gather(decide(), decide())
    assert sorted(first + second) == [campaign_id]
    assert await delivery_counts(db, campaign_id) == {"sent": 4, "pending": 16}
    released = await db.scalars(
        text("SELECT DISTINCT ab_variant_id FROM deliveries WHERE campaign_id = :c AND status = 'pending'"),
        {"c": campaign_id},
    )
    decided = await wait_for_test(db, test_id, "winner_chosen")
    assert list(released) == [decided["chosen_variant_id"]] == [variant["A"]]  # nobody opened: the control
    async with get_sessionmaker()() as session:
        assert await ab_sending.decide_due(session) == []


async def test_a_manual_test_waits_for_a_person_and_sends_their_choice(db, api, worker):
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        campaign_id, test_id, variant = await ab_campaign(db, 20, criterion="manual")
        await campaigns.send_now(db, campaign_id)
        await db.commit()
        editor = await api("editor")
        too_early = editor.post(f"/api/ab-tests/{test_id}/winner", json={"variant_id": variant["B"]})
        assert too_early.status_code == 409
        worker()
        await wait_for_test(db, test_id, "waiting")
        await end_wait(db, test_id)
        async with get_sessionmaker()() as session:
            assert await ab_sending.decide_due(session) == []  # manual: the wait's end decides nothing
        assert await delivery_counts(db, campaign_id) == {"sent": 4, "held": 16}

        viewer = await api("viewer")
        assert viewer.post(f"/api/ab-tests/{test_id}/winner", json={"variant_id": variant["B"]}).status_code == 403
        wrong = editor.post(f"/api/ab-tests/{test_id}/winner", json={"variant_id": 999999})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "variant_id"
        chosen = editor.post(f"/api/ab-tests/{test_id}/winner", json={"variant_id": variant["B"]})
        assert chosen.status_code == 200
        assert chosen.json()["status"] == "winner_chosen" and chosen.json()["chosen_variant_id"] == variant["B"]
        assert chosen.json()["decision_reason"] == "B was chosen by api:test editor."
        again = editor.post(f"/api/ab-tests/{test_id}/winner", json={"variant_id": variant["A"]})
        assert again.status_code == 409
        await wait_for_status(db, campaign_id, {"sent"})
        await wait_for_test(db, test_id, "sent")

    assert subjects(sink) == {"Subject A": 2, "Subject B": 18}
    assert len(set(sink.handler.recipients())) == 20


async def test_revenue_picks_the_variant_whose_recipients_bought(db, api, staff):
    campaign_id, test_id, variant = await waiting_test(db, 100, test_percent=40, criterion="revenue")
    orders = """INSERT INTO conversions (order_id, contact_id, amount, currency, occurred_at, source,
                                         campaign_id, delivery_id)
                SELECT :currency || '-' || id, contact_id, :amount, :currency, now(), 'api', campaign_id, id
                FROM deliveries WHERE campaign_id = :c AND ab_variant_id = :v ORDER BY id LIMIT :n"""
    await db.execute(text(orders), {"c": campaign_id, "v": variant["B"], "n": 12, "amount": 25, "currency": "EUR"})
    await db.execute(text(orders), {"c": campaign_id, "v": variant["A"], "n": 1, "amount": "9.95", "currency": "USD"})
    await db.commit()
    detail = (await api("viewer")).get(f"/api/ab-tests/{test_id}").json()
    revenue = next(m for m in detail["statistics"] if m["metric"] == "revenue")
    assert [(v["label"], v["recipients"], v["successes"]) for v in revenue["variants"]] == [("A", 20, 1), ("B", 20, 12)]
    assert [(r["label"], r["currency"], r["orders"], r["amount"]) for r in detail["revenue"]] == [
        ("A", "USD", 1, "9.95"),
        ("B", "EUR", 12, "300"),  # exact, as stored: the orders were whole euros
    ]
    report = (await staff("viewer")).get(f"/campaigns/{campaign_id}/report/ab-test").text
    assert "Recipients who bought" in report  # the criterion's own metric (this page once failed on it)
    rows = re.findall(
        r'<tr><th scope="row">(\w)</th><td>(\w+)</td><td class="num">(\d+)</td><td class="num">([^<]+)</td>', report
    )
    assert rows == [("A", "USD", "1", "$9.95"), ("B", "EUR", "12", "€300.00")]
    await end_wait(db, test_id)
    async with get_sessionmaker()() as session:
        assert await ab_sending.decide_due(session) == [campaign_id]
    decided = await wait_for_test(db, test_id, "winner_chosen")
    assert decided["chosen_variant_id"] == variant["B"]
    assert decided["decision_reason"].startswith("B is significantly better")
    assert await delivery_counts(db, campaign_id) == {"sent": 40, "pending": 60}


async def test_an_audience_too_small_to_hold_anyone_back_is_all_test_share_and_the_test_ends(db, worker):
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        campaign_id, test_id, _ = await ab_campaign(db, 2, test_percent=10)
        await campaigns.send_now(db, campaign_id)
        await db.commit()
        worker()
        done = await wait_for_status(db, campaign_id, {"sent"})
        ended = await wait_for_test(db, test_id, "sent")
    assert done.sent_count == 2 and subjects(sink) == {"Subject A": 1, "Subject B": 1}
    assert ended["chosen_variant_id"] is None
    assert ended["decision_reason"].startswith("No winner was chosen: the audience was too small to hold anyone back")


async def test_a_cancelled_campaign_cancels_its_held_deliveries_and_its_test_is_never_decided(db, staff):
    campaign_id, test_id, variant = await waiting_test(db)
    editor = await staff("editor")
    waiting = editor.get(f"/campaigns/{campaign_id}/report/ab-test").text
    assert 'id="ab-winner-form"' in waiting and "The control is sent." in waiting  # what the end of the wait does
    await campaigns.cancel(db, campaign_id)
    await db.commit()
    await end_wait(db, test_id)
    async with get_sessionmaker()() as session:
        assert await ab_sending.decide_due(session) == []
        with pytest.raises(Conflict, match="cancelled"):
            await ab_sending.choose_winner(session, test_id, {"variant_id": variant["B"]}, "someone")
    assert await delivery_counts(db, campaign_id) == {"sent": 4, "cancelled": 16}
    assert (await wait_for_test(db, test_id, "cancelled"))["chosen_variant_id"] is None
    report = editor.get(f"/campaigns/{campaign_id}/report").text
    assert '<span class="badge">cancelled</span>' in report
    assert 'id="ab-winner-form"' not in report and 'hx-trigger="every 10s"' not in report  # nothing left to wait for
    assert "No variant is significantly better" in report and "is sent" not in report, "nothing more goes out"


async def test_the_tick_leaves_a_campaign_whose_test_waits_for_its_winner_alone(db):
    """Nothing is left to send while the test waits: the tick must not restart it every time (the
    campaign still reads "sending" and no worker keeps its heartbeat)."""
    from webapp.core.redis import get_redis
    from webapp.delivery import actors
    from webapp.delivery.broker import broker

    campaign_id, test_id, _ = await ab_campaign(db, 20)
    await campaigns.send_now(db, campaign_id)
    await db.execute(text("UPDATE campaigns SET status = 'sending' WHERE id = :c"), {"c": campaign_id})
    await db.commit()
    redis = get_redis()
    queue = f"{broker.namespace}:send"  # where the Redis broker queues start_campaign
    await redis.delete(queue)
    await actors.start_due_campaigns()
    assert await redis.llen(queue) == 1  # a sending campaign nobody serves is started

    await redis.delete(queue)
    await db.execute(text("UPDATE ab_tests SET status = 'waiting' WHERE id = :t"), {"t": test_id})
    await db.commit()
    await actors.start_due_campaigns()
    assert await redis.llen(queue) == 0


async def test_a_person_chooses_the_winner_on_the_report(db, staff):
    campaign_id, test_id, variant = await waiting_test(db, 20, criterion="manual")
    viewer, editor = await staff("viewer"), await staff("editor")
    page = editor.get(f"/campaigns/{campaign_id}").text
    assert "The A/B test share is sent: the other 16 recipients wait for the" in page
    assert re.search(r'class="progress-eta">—<', page), "no time left while a person is to choose"
    report = editor.get(f"/campaigns/{campaign_id}/report").text
    assert "you choose the winner once the test share is sent" in report and "else the control" not in report
    assert 'id="ab-winner-form"' in report and "Choose the winner" in report
    assert "The control is sent" not in report and "The leader is sent" not in report
    assert 'id="ab-winner-form"' in editor.get(f"/campaigns/{campaign_id}/report/ab-test").text  # the 10 s reload
    assert 'id="ab-winner-form"' not in viewer.get(f"/campaigns/{campaign_id}/report").text
    assert viewer.post(f"/campaigns/{campaign_id}/ab-test/winner", data={"variant_id": variant["B"]}).status_code == 403

    nothing = editor.post(f"/campaigns/{campaign_id}/ab-test/winner", data={"variant_id": ""})
    assert nothing.status_code == 303
    assert "No winner was chosen" in editor.get(f"/campaigns/{campaign_id}/report").text
    chosen = editor.post(f"/campaigns/{campaign_id}/ab-test/winner", data={"variant_id": variant["B"]})
    assert (chosen.status_code, chosen.headers["location"]) == (303, f"/campaigns/{campaign_id}/report#report-ab-test")
    after = editor.get(f"/campaigns/{campaign_id}/report").text
    assert "B is the winner: it goes to the rest of the audience within a minute." in after
    assert 'id="ab-winner-form"' not in after and "chosen: <strong>B</strong>" in after
    test = await wait_for_test(db, test_id, "winner_chosen")
    assert test["chosen_variant_id"] == variant["B"]
    again = editor.post(f"/campaigns/{campaign_id}/ab-test/winner", data={"variant_id": variant["A"]})
    assert again.status_code == 303 and "No winner was chosen" in editor.get(f"/campaigns/{campaign_id}/report").text
