"""Which refusals are bounces. Only a refusal of the recipient's mailbox (5.1.x, 5.2.1) marks the
contact bounced and suppresses the address; a relay or policy refusal (5.7.1 "Relay access
denied") is the server's fault: the campaign pauses after MAILROOM_PAUSE_AFTER_FAILURES of them,
counted across every concurrent batch, and every contact stays mailable for when it resumes."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from sqlalchemy import text

from tests.integration.test_send_faults import start_campaign, wait_for_no_claims
from tests.support.campaigns import wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis

PAUSE_AFTER = 20
CONNECTIONS = 5  # the server's max_connections: messages one worker process can have in SMTP at once
# Past the limit, refusals still arrive for the messages that were in SMTP when the count reached it.
IN_FLIGHT = CONNECTIONS


async def test_a_relay_refusing_everyone_pauses_the_campaign_and_bounces_nobody(db, worker):
    size = 500
    relay_fixed = False

    def relay(address: str, attempt: int) -> str | None:
        return None if relay_fixed else "554 5.7.1 <person@example.com>: Relay access denied"

    with SmtpSink(relay) as sink:
        campaign = await start_campaign(db, size, sink.port)
        worker(MAILROOM_PAUSE_AFTER_FAILURES=str(PAUSE_AFTER))
        paused = await wait_for_status(db, campaign.id, {"paused"})
        await wait_for_no_claims(db)

        refused = sink.handler.refusals()
        attempts = (await db.execute(text("SELECT attempts, count(*) FROM deliveries GROUP BY 1 ORDER BY 1"))).all()
        assert refused <= PAUSE_AFTER + IN_FLIGHT, (
            f"{refused} refusals before the pause took hold; {paused.status_reason}; deliveries by attempts: {attempts}"
        )
        assert "Relay access denied" in paused.status_reason
        assert await db.scalar(text("SELECT count(*) FROM contacts WHERE status <> 'active'")) == 0
        assert await db.scalar(text("SELECT count(*) FROM suppressions")) == 0
        assert await db.scalar(text("SELECT count(*) FROM deliveries WHERE status IN ('failed', 'skipped')")) == 0

        relay_fixed = True  # the admin fixes the relay and resumes
        await campaigns.resume(db, campaign.id)
        await db.commit()
        done = await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)} and max(received.values()) == 1
    assert (done.sent_count, done.bounced_count) == (size, 0)


class HeldRelay:
    """A relay refusing everyone, whose first refusal waits until the test lets it go: by then the
    campaign has begun (its rows exist) and the test has set the scene."""

    def __init__(self) -> None:
        self.refusing, self.go = threading.Event(), threading.Event()

    def __call__(self, address: str, attempt: int) -> str | None:
        self.refusing.set()
        self.go.wait(10)
        return "554 5.7.1 <person@example.com>: Relay access denied"

    async def first_refusal(self) -> None:
        assert await asyncio.to_thread(self.refusing.wait, 60)


async def test_refusals_stop_at_the_limit_even_while_the_pause_waits_for_a_lock(db, worker):
    """The pause locks the campaign's row, so it waits for any transaction holding it (one adding rows
    that reference the campaign holds a key-share lock until it commits). Meanwhile no batch, new or
    claimed before, may send again: the status read from the database says sending until then."""
    relay = HeldRelay()
    with SmtpSink(relay) as sink:
        campaign = await start_campaign(db, 2000, sink.port)
        worker(MAILROOM_PAUSE_AFTER_FAILURES=str(PAUSE_AFTER))
        async with get_sessionmaker()() as other:
            await relay.first_refusal()
            lock = "SELECT 1 FROM campaigns WHERE id = :id FOR KEY SHARE"
            await other.execute(text(lock), {"id": campaign.id})
            relay.go.set()
            await asyncio.sleep(3)
            assert (await db.scalar(text("SELECT status FROM campaigns WHERE id = :id"), {"id": campaign.id})) == (
                "sending"
            ), "the pause waits for the lock"
            refused_while_waiting = sink.handler.refusals()
        paused = await wait_for_status(db, campaign.id, {"paused"})
        await wait_for_no_claims(db)

    assert refused_while_waiting <= PAUSE_AFTER + IN_FLIGHT, f"{refused_while_waiting} refusals while the pause waited"
    assert sink.handler.refusals() <= PAUSE_AFTER + IN_FLIGHT
    assert "Relay access denied" in paused.status_reason


async def test_refusals_stop_at_the_limit_even_while_redis_is_slow(db, worker):
    """Each failure also counts against the server's health in Redis, and the failure count
    itself lives there. While Redis is slow to answer, a relay refusing at once must not take
    message after message: a refusal is counted in the process before its session takes the next."""
    relay = HeldRelay()
    with SmtpSink(relay) as sink:
        campaign = await start_campaign(db, 2000, sink.port)
        worker(MAILROOM_PAUSE_AFTER_FAILURES=str(PAUSE_AFTER))
        await relay.first_refusal()
        await get_redis().execute_command("CLIENT", "PAUSE", "2000", "WRITE")  # writes wait 2 s, reads go on
        relay.go.set()
        await asyncio.sleep(2.5)
        refused_while_slow = sink.handler.refusals()
        paused = await wait_for_status(db, campaign.id, {"paused"})
        await wait_for_no_claims(db)

    assert refused_while_slow <= PAUSE_AFTER + IN_FLIGHT, f"{refused_while_slow} refusals while Redis was slow"
    assert sink.handler.refusals() <= PAUSE_AFTER + IN_FLIGHT
    assert "Relay access denied" in paused.status_reason


async def test_only_mailbox_refusals_are_bounces(db, worker):
    replies = {
        "person1@example.com": "550 5.1.1 <person1@example.com>: Recipient address rejected: User unknown",
        "person2@example.com": "550 5.2.1 Mailbox disabled",
        "person3@example.com": "554 5.7.1 Client host rejected: Access denied",
        "person4@example.com": "553 5.1.8 Sender address rejected: Domain not found",
        "person5@example.com": "550 Rejected",
    }

    def refuse(address: str, attempt: int) -> str | None:
        return replies.get(address)

    with SmtpSink(refuse) as sink:
        campaign = await start_campaign(db, 20, sink.port)
        worker(MAILROOM_SEND_MAX_ATTEMPTS="2")
        done = await wait_for_status(db, campaign.id, {"sent"}, timeout=90)
    assert len(sink.messages) == 15
    statuses = dict((await db.execute(text("SELECT email, status FROM contacts WHERE status <> 'active'"))).all())
    assert statuses == {"person1@example.com": "bounced", "person2@example.com": "bounced"}
    suppressed = set(await db.scalars(text("SELECT email FROM suppressions WHERE reason = 'bounce'")))
    assert suppressed == {"person1@example.com", "person2@example.com"}
    assert (done.failed_count, done.bounced_count) == (5, 2)
    tried = await db.scalars(text("SELECT attempts FROM deliveries WHERE status = 'failed' AND bounced_at IS NULL"))
    assert list(tried) == [2, 2, 2], "a refusal that is not the mailbox's is tried again, then given up"
