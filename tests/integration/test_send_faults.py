"""Crash safety, pause/resume and SMTP faults, with real worker processes and SMTP servers."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import text

from tests.support.campaigns import audience, delivery_counts, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink, free_port
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns

pytestmark = pytest.mark.long  # minutes: started first

BATCH_SIZE, THREADS = 50, 4
IN_FLIGHT_BOUND = BATCH_SIZE * THREADS  # rows one worker process can hold claimed at once


async def wait_until(db, campaign_id, predicate, timeout=60.0):
    for _ in range(int(timeout / 0.1)):
        db.expire_all()
        campaign = await db.get(Campaign, campaign_id)
        if predicate(campaign):
            return campaign
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not reached; campaign is {campaign.status}, sent {campaign.sent_count}")


async def wait_for_no_claims(db, timeout=60.0) -> None:
    """Until no delivery is claimed: the messages in SMTP are done and the rest given back."""
    for _ in range(int(timeout / 0.1)):
        if not await db.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'sending'")):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("deliveries are still claimed")


async def start_campaign(db, size: int, *servers: int) -> Campaign:
    email_list = await audience(db, size)
    for priority, port in enumerate(servers):
        await smtp_server(db, port, name=f"server {priority}", priority=priority)
    campaign = await ready_campaign(db, [email_list.id])
    await campaigns.send_now(db, campaign.id)
    await db.commit()
    return campaign


async def test_killed_worker_loses_nobody_and_duplicates_only_what_was_in_flight(db, worker):
    size = 1000
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        first = worker("crash-1")
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 300)
        first.kill()
        killed_at = len(sink.messages)
        worker("crash-2")
        done = await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    received = Counter(sink.handler.recipients())
    expected = {f"person{i}@example.com" for i in range(size)}
    assert set(received) == expected, "every recipient got the campaign"
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= IN_FLIGHT_BOUND, f"{duplicates} duplicates, more than the {IN_FLIGHT_BOUND} in flight"
    assert killed_at < size, "the worker was killed mid-send"
    assert done.sent_count == size and await delivery_counts(db, campaign.id) == {"sent": size}


async def test_pause_stops_sending_and_resume_finishes_without_duplicates_or_gaps(db, worker):
    size = 600
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        worker()
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 100)
        await campaigns.pause(db, campaign.id)
        await db.commit()
        # The batches already claimed finish; after that nothing more goes out.
        for _ in range(100):
            if not await db.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'sending'")):
                break
            await asyncio.sleep(0.1)
        sent_while_paused = len(sink.messages)
        await asyncio.sleep(2)
        assert len(sink.messages) == sent_while_paused < size
        await campaigns.resume(db, campaign.id)
        await db.commit()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)}
    assert max(received.values()) == 1


async def test_451_replies_are_retried_until_delivered(db, worker):
    def greylist(address: str, attempt: int) -> str | None:
        number = int(address.removeprefix("person").split("@")[0])
        return "451 4.7.1 Greylisted, try again later" if number % 5 == 0 and attempt == 1 else None

    with SmtpSink(greylist) as sink:
        campaign = await start_campaign(db, 50, sink.port)
        worker()
        done = await wait_for_status(db, campaign.id, {"sent"}, timeout=90)
    assert sorted(sink.handler.recipients()) == sorted(f"person{i}@example.com" for i in range(50))
    assert done.sent_count == 50 and done.failed_count == 0
    retried = await db.scalar(text("SELECT count(*) FROM deliveries WHERE attempts = 2"))
    assert retried == 10


async def test_550_replies_fail_the_delivery_with_the_servers_message(db, worker):
    def reject(address: str, attempt: int) -> str | None:
        return "550 5.1.1 No such user here" if address in {"person3@example.com", "person4@example.com"} else None

    with SmtpSink(reject) as sink:
        campaign = await start_campaign(db, 20, sink.port)
        worker()
        done = await wait_for_status(db, campaign.id, {"sent"})
    assert len(sink.messages) == 18
    assert done.sent_count == 18 and done.failed_count == 2 and done.bounced_count == 2
    rows = (
        await db.execute(
            text(
                "SELECT d.email, d.status, d.error_message, c.status "
                "FROM deliveries d JOIN contacts c ON c.id = d.contact_id "
                "WHERE d.status = 'failed' ORDER BY d.email"
            )
        )
    ).all()
    assert [r[0] for r in rows] == ["person3@example.com", "person4@example.com"]
    assert all("550 5.1.1 No such user here" in r[2] for r in rows)
    assert all(r[3] == "bounced" for r in rows)  # and they get nothing from later campaigns


async def test_a_server_that_is_down_fails_over_to_the_next(db, worker):
    dead_port = free_port()  # nothing listens here
    with SmtpSink() as sink:
        campaign = await start_campaign(db, 40, dead_port, sink.port)
        worker()
        done = await wait_for_status(db, campaign.id, {"sent"})
    assert done.sent_count == 40 and len(sink.messages) == 40
    live_server_id = await db.scalar(text("SELECT id FROM smtp_servers WHERE port = :p"), {"p": sink.port})
    assert await db.scalar(text("SELECT count(DISTINCT smtp_server_id) FROM deliveries")) == 1
    assert await db.scalar(text("SELECT min(smtp_server_id) FROM deliveries")) == live_server_id
    dead = await db.scalar(text("SELECT last_error FROM smtp_servers WHERE port = :p"), {"p": dead_port})
    assert "Cannot connect" in dead  # shown to admins on the SMTP servers page


async def test_too_many_consecutive_failures_pause_the_campaign_with_the_reason(db, worker):
    with SmtpSink(lambda address, attempt: "554 5.7.1 Rejected: sender blocked") as sink:
        campaign = await start_campaign(db, 300, sink.port)
        worker(MAILROOM_PAUSE_AFTER_FAILURES="100")
        paused = await wait_for_status(db, campaign.id, {"paused"})
    assert "failed messages in a row" in paused.status_reason
    assert "554 5.7.1 Rejected: sender blocked" in paused.status_reason
    assert paused.failed_count < 300


async def test_hourly_limit_holds_the_rest_back_without_failing_or_pausing(db, worker):
    with SmtpSink() as sink:
        email_list = await audience(db, 12)
        server = await smtp_server(db, sink.port)
        server.rate_per_hour = 5
        campaign_id = (await ready_campaign(db, [email_list.id])).id
        await campaigns.send_now(db, campaign_id)
        await db.commit()
        worker(MAILROOM_PAUSE_AFTER_FAILURES="3")
        await wait_until(db, campaign_id, lambda c: c.sent_count == 5)
        await asyncio.sleep(2)
        assert len(sink.messages) == 5
    db.expire_all()
    held = await delivery_counts(db, campaign_id)
    assert held == {"sent": 5, "pending": 7}
    assert (await db.get(Campaign, campaign_id)).status == "sending"  # waits for the next hour
    error = await db.scalar(text("SELECT error_message FROM deliveries WHERE status = 'pending' LIMIT 1"))
    assert "limit of 5 messages per hour" in error
    wait = await db.scalar(text("SELECT min(next_attempt_at - now()) FROM deliveries WHERE status = 'pending'"))
    assert wait.total_seconds() > 0
