"""The email step's messages, sent by real worker processes to a real SMTP server: never twice, even
when a worker is SIGKILLed mid-run (counted at the server), and tracked like campaign mail."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from tests.support.automation_mail import EMAIL_STEP, email_step_run, email_template, statuses
from tests.support.automations import new_contacts, published
from tests.support.campaigns import smtp_server
from tests.support.events import apply_events
from tests.support.smtp import RecordingHandler, SmtpSink
from webapp.automations.service import emails
from webapp.automations.service.enrolments import enrol
from webapp.campaigns.service import listing
from webapp.conversions import service as conversions
from webapp.conversions.schemas import Revenue
from webapp.suppression.service.suppression import add as suppress

pytestmark = pytest.mark.long  # minutes: started first

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
CONNECTIONS = 5  # the SMTP server's max_connections
BATCH_SIZE = 50  # MAILROOM_SEND_BATCH_SIZE of the test workers: what one worker claims at once


async def until(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout}s")
        await asyncio.sleep(0.1)


async def all_finished(db) -> None:
    """Until no automation email is left to send, being sent, or being handed over."""

    async def finished() -> bool:
        unfinished = "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending', 'handing')"
        left = await db.scalar(text(unfinished))
        await db.commit()
        return left == 0

    await until(finished, timeout=120, what="every automation email finished")


async def test_messages_being_handed_over_when_the_worker_dies_are_in_doubt_and_never_sent_again(db, worker):
    queued = await email_step_run(db, 40)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port, max_connections=3)
        await db.commit()
        sink.hold()  # the server takes each message's content but does not answer yet
        first = worker("auto-mail-1")

        async def three_held() -> bool:
            return sink.held == 3

        await until(three_held, what="three messages handed over")
        held = set(await db.scalars(text("SELECT email FROM deliveries WHERE status = 'handing'")))
        first.kill()
        sink.release()  # whether the server keeps them depends on it: the dead worker never hears
        worker("auto-mail-2")
        await all_finished(db)

    received = Counter(sink.handler.recipients())
    assert max(received.values()) == 1, "no message went twice"
    assert queued.emails - held <= set(received) <= queued.emails, "the rest went after recovery"
    assert await statuses(db) == {"sent": 37, "in_doubt": 3}
    assert set(await db.scalars(text("SELECT email FROM deliveries WHERE status = 'in_doubt'"))) == held
    errors = set(await db.scalars(text("SELECT error_message FROM deliveries WHERE status = 'in_doubt'")))
    assert errors == {
        "Not sent again: the worker stopped while handing it to the SMTP server, which may have accepted it."
    }


async def test_a_worker_killed_mid_run_sends_no_email_twice_and_loses_none_it_had_not_handed_over(db, worker):
    size = 1000
    queued = await email_step_run(db, size)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port, max_connections=CONNECTIONS)
        await db.commit()
        first = worker("auto-mail-crash-1")

        async def some_sent() -> bool:
            return len(sink.messages) >= 300

        await until(some_sent, what="300 messages sent")
        first.kill()
        killed_at = len(sink.messages)
        worker("auto-mail-crash-2")
        await all_finished(db)

    received = Counter(sink.handler.recipients())
    assert killed_at < size, "the worker was killed mid-run"
    assert sum(n - 1 for n in received.values()) == 0, "no duplicates at the SMTP server"
    in_doubt = set(await db.scalars(text("SELECT email FROM deliveries WHERE status = 'in_doubt'")))
    assert len(in_doubt) <= BATCH_SIZE, "only messages the dead worker held can be in doubt"
    assert set(received) | in_doubt == queued.emails
    assert await statuses(db) == Counter({"sent": size - len(in_doubt), "in_doubt": len(in_doubt)})


async def test_an_email_step_is_campaign_mail_to_the_contact_and_an_opt_out_stops_it(db, worker):
    queued = await email_step_run(db, 4, subject="Hello {{ first_name }}")
    await db.execute(text("UPDATE contacts SET status = 'unsubscribed' WHERE email = 'person1@example.com'"))
    await suppress(db, "person2@example.com", "unsubscribe", source="test")
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        worker("auto-mail-tracked")
        await all_finished(db)

    assert sorted(sink.handler.recipients()) == ["person0@example.com", "person3@example.com"]
    message = next(m for m in sink.messages if m["To"] == "person0@example.com")
    assert message["Subject"] == "Hello Person0"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/unsubscribe/" in message["List-Unsubscribe"]
    html = message.get_body(("html",)).get_content()
    assert "/u/c/" in html and "/u/o/" in html and "https://example.com/offer" not in html
    assert "1 Test Street" in html
    assert await statuses(db) == {"sent": 2, "skipped": 2}
    # The step's campaign is the automation's, not one staff send or see in the campaign list.
    listed = await listing.find_campaigns(db)
    assert queued.campaign_id not in [c.id for c in listed.campaigns]
    step = await db.scalar(text("SELECT automation_step_id FROM campaigns WHERE id = :c"), {"c": queued.campaign_id})
    assert step == EMAIL_STEP


async def test_orders_whose_last_click_was_in_an_automation_email_are_the_email_steps_revenue(
    db, worker, live_server, staff
):
    queued = await email_step_run(db, 2)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        sender = worker("auto-mail-revenue")
        await all_finished(db)
        sender.stop()  # the test applies the click itself
    await db.execute(text("UPDATE deliveries SET sent_at = sent_at - interval '1 hour'"))  # sooner: a scanner's
    await db.commit()
    message = next(m for m in sink.messages if m["To"] == "person0@example.com")
    tracked = re.search(r'href="https?://[^/"]+(/u/c/[^"]+)"', message.get_body(("html",)).get_content())
    assert tracked is not None
    answer = httpx.get(live_server + tracked.group(1), headers={"User-Agent": BROWSER})
    assert answer.status_code == 302 and answer.headers["location"] == "https://example.com/offer"
    await apply_events()

    order = {"email": "person0@example.com", "order_id": "A-1", "amount": "49.90", "currency": "EUR"}
    recorded = await conversions.record(db, order, source="api")
    await db.commit()

    assert recorded.conversion.campaign_id == queued.campaign_id
    report = (await emails.reports(db, queued.automation_id))[EMAIL_STEP]
    assert report.revenue == [Revenue(currency="EUR", orders=1, amount=Decimal("49.90"))]
    assert (report.activity.sent, report.activity.human_unique_clicks, report.in_doubt) == (2, 1, 0)

    builder = (await staff("viewer")).get(f"/automations/{queued.automation_id}")  # the step's figures
    assert builder.status_code == 200
    figures = re.search(rf'id="step-{EMAIL_STEP}-head".*?</dl>', builder.text, re.S)
    assert figures is not None
    shown = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", figures.group(0)))
    assert shown["Sent"] == "2" and shown["Clicks"] == "50.0%" and shown["Revenue"] == "49.90 EUR"


class CutOffAfterContent(RecordingHandler):
    """Takes each message's content, then drops the session before answering."""

    async def handle_DATA(self, server, session, envelope):
        await super().handle_DATA(server, session, envelope)
        server.transport.close()
        return "250 OK"


async def test_a_transfer_cut_off_while_the_content_goes_is_in_doubt_and_tried_on_no_other_server(db, worker):
    queued = await email_step_run(db, 2)
    with SmtpSink(handler=CutOffAfterContent()) as first, SmtpSink() as second:
        await smtp_server(db, first.port, name="first", priority=0)
        await smtp_server(db, second.port, name="second", priority=1)
        await db.commit()
        worker("auto-mail-cut-off")
        await all_finished(db)

    assert sorted(first.handler.recipients()) == sorted(queued.emails)
    assert second.messages == [], "a message the first server may have kept goes nowhere else"
    assert await statuses(db) == {"in_doubt": 2}
    errors = set(await db.scalars(text("SELECT error_message FROM deliveries")))
    assert len(errors) == 1 and errors.pop().startswith(f"127.0.0.1:{first.port}: "), "the reason is the cut-off"


async def test_a_contact_enrolled_gets_the_email_step_through_the_engine_once(db, worker):
    template_id = await email_template(db)
    contact_ids = await new_contacts(db, 3, prefix="enrolled")
    automation_id = await published(db, [{"id": EMAIL_STEP, "type": "send_email", "template_id": template_id}])
    await enrol(db, automation_id, contact_ids)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        worker("auto-mail-engine")

        async def all_sent() -> bool:
            return len(sink.messages) == 3

        await until(all_sent, what="the step's three messages")
        await all_finished(db)

    assert sorted(sink.handler.recipients()) == [f"enrolled{i}@example.com" for i in (1, 2, 3)]
    runs = await db.scalar(text("SELECT count(*) FROM automation_step_runs WHERE step_id = :s"), {"s": EMAIL_STEP})
    assert runs == 3 and await statuses(db) == {"sent": 3}


async def test_an_opt_out_after_the_claim_stops_the_message_at_its_hand_over(db, worker):
    await email_step_run(db, 3)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port, max_connections=1)
        await db.commit()
        sink.hold()  # one message in DATA; the others claimed, waiting for the one connection
        worker("auto-mail-opt-out")

        async def one_held() -> bool:
            return sink.held == 1

        await until(one_held, what="a message handed over")
        assert await statuses(db) == {"handing": 1, "sending": 2}
        waiting = sorted(await db.scalars(text("SELECT email FROM deliveries WHERE status = 'sending'")))
        await suppress(db, waiting[0], "unsubscribe", source="test")
        await db.commit()
        sink.release()
        await all_finished(db)

    assert waiting[0] not in sink.handler.recipients()
    assert await statuses(db) == {"sent": 2, "skipped": 1}
    skipped = await db.scalar(text("SELECT error_message FROM deliveries WHERE status = 'skipped'"))
    assert skipped == "Not sent: the address is on the suppression list."


async def test_an_email_steps_failed_messages_are_counted_on_the_builder(db, staff):
    queued = await email_step_run(db, 3)
    failed = (
        "UPDATE deliveries SET status = 'failed', error_message = 'Template error: x' "
        "WHERE id = (SELECT min(id) FROM deliveries)"
    )
    await db.execute(text(failed))  # as the sender records a message it could not make (delivery/automation_mail.py)
    await db.commit()
    report = (await emails.reports(db, queued.automation_id))[EMAIL_STEP]
    assert (report.failed, report.in_doubt) == (1, 0)
    builder = (await staff("viewer")).get(f"/automations/{queued.automation_id}").text
    figures = re.search(rf'id="step-{EMAIL_STEP}-head".*?</dl>', builder, re.S)
    assert (
        figures is not None and dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", figures.group(0)))["Failed"] == "1"
    )
