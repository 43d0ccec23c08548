"""Sending picks up again within seconds after a resume, a worker's death or a short retry delay, and
a batch that takes longer than the lease (a slow per-second limit, a slow render) keeps its claim instead of being
sent a second time by another worker.

The lease here is long (60 s) on purpose: the old code's liveness key lived as long, and a restart
within STALL_BOUND seconds shows that nothing waits for it."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text

from tests.integration.test_send_faults import start_campaign, wait_for_no_claims, wait_until
from tests.support.campaigns import audience, ready_campaign, sent_by_a_worker, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns

pytestmark = pytest.mark.long  # minutes: started first

LONG_LEASE = {"MAILROOM_SEND_LEASE_SECONDS": "60"}
STALL_BOUND = 40.0  # seconds within which sending must move again (the old code stalled for the lease)


async def test_resume_picks_up_within_seconds(db, worker):
    size = 500
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        worker(**LONG_LEASE)
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 100)
        await campaigns.pause(db, campaign.id)
        await db.commit()
        await wait_for_no_claims(db)
        paused_at = (await wait_until(db, campaign.id, lambda c: True)).sent_count
        await campaigns.resume(db, campaign.id)
        await db.commit()
        await wait_until(db, campaign.id, lambda c: c.sent_count > paused_at, timeout=STALL_BOUND)
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)
    assert max(Counter(sink.handler.recipients()).values()) == 1


async def test_a_restarted_worker_picks_up_within_seconds(db, worker):
    size = 1000
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        first = worker("stall-1", **LONG_LEASE)
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 100)
        first.kill()
        killed_at = (await wait_until(db, campaign.id, lambda c: True)).sent_count
        worker("stall-2", **LONG_LEASE)
        await wait_until(db, campaign.id, lambda c: c.sent_count > killed_at, timeout=STALL_BOUND)


async def test_short_retry_delays_are_kept(db, worker):
    def greylist(address: str, attempt: int) -> str | None:  # twice: retried after 2 s, then after 4 s
        return "451 4.7.1 Greylisted, try again later" if attempt <= 2 else None

    with SmtpSink(greylist) as sink:
        campaign = await start_campaign(db, 200, sink.port)
        worker(MAILROOM_SEND_RETRY_BASE_SECONDS="2", MAILROOM_PAUSE_AFTER_FAILURES="100000", **LONG_LEASE)
        await wait_for_status(db, campaign.id, {"sent"}, timeout=STALL_BOUND)
    assert sorted(sink.handler.recipients()) == sorted(f"person{i}@example.com" for i in range(200))


async def test_a_batch_slower_than_its_lease_is_not_sent_twice(db, worker):
    size = 60
    with SmtpSink() as sink:
        email_list = await audience(db, size)
        server = await smtp_server(db, sink.port)
        server.rate_per_second = 5  # a batch of 50 takes 10 s; the lease is 5 s
        campaign = await ready_campaign(db, [email_list.id])
        await sent_by_a_worker(db, worker, campaign.id, timeout=120)
    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)}
    twice = sorted(address for address, n in received.items() if n > 1)
    assert twice == [], f"sent twice: {twice}"
    assert await db.scalar(text("SELECT max(attempts) FROM deliveries")) == 1


async def test_a_batch_whose_rendering_outlasts_its_lease_is_not_sent_twice(db, worker):
    size = 40  # one batch; each message takes ~0.25 s of CPU to render: ~10 s, twice the 5 s lease
    slow = "{% for i in range(4000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}<p>Hi {{ first_name }}</p>"
    with SmtpSink() as sink:
        email_list = await audience(db, size)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id], html_content=slow)
        await sent_by_a_worker(db, worker, campaign.id, timeout=180)
    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)}
    assert sorted(address for address, n in received.items() if n > 1) == []
    assert await db.scalar(text("SELECT max(attempts) FROM deliveries")) == 1
