"""Pause and cancel are stops. Once a pause or cancel has committed, only the messages already
handed to SMTP go out: a worker gives back what it claimed and had not sent at once (pending for a
pause, cancelled for a cancel), and nothing is left pending for ever.

The SMTP server holds its messages in DATA while the test pauses: the worker's every connection is
then busy with a message already handed over, and the test can see exactly what was. It offers
PIPELINING, as Postfix does: the next message's envelope then waits at the server behind each held
one, and must not go out after the pause."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import text

from tests.integration.test_send_faults import start_campaign, wait_for_no_claims, wait_until
from tests.support.campaigns import delivery_counts, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns

CONNECTIONS = 5  # the server's max_connections: messages a worker process has in SMTP at once


async def claimed(db) -> int:
    return await db.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'sending'"))


async def wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {what}")


async def hold_every_connection(db, sink: SmtpSink, campaign_id: int, after: int) -> int:
    """Let `after` messages through, then hold the next ones in DATA until every connection has one.
    Returns how many messages were handed to SMTP by then."""
    await wait_until(db, campaign_id, lambda c: c.sent_count >= after)
    sink.hold()

    async def all_held() -> bool:
        return sink.held == CONNECTIONS

    await wait_for(all_held, "held a message on every connection")
    return len(sink.messages) + sink.held


async def test_after_a_pause_commits_only_the_messages_already_in_smtp_go_out(db, worker):
    size = 1000
    with SmtpSink(pipelining=True) as sink:
        campaign = await start_campaign(db, size, sink.port)
        worker()
        handed = await hold_every_connection(db, sink, campaign.id, after=100)
        await campaigns.pause(db, campaign.id)
        await db.commit()

        async def given_back() -> bool:
            return await claimed(db) == CONNECTIONS

        await wait_for(given_back, "gave back the deliveries claimed but not handed to SMTP")
        sink.release()
        await wait_for_no_claims(db)
        await asyncio.sleep(1)  # anything still going out would arrive now
        assert len(sink.messages) == handed, f"{len(sink.messages) - handed} messages went out after the pause"
        counts = await delivery_counts(db, campaign.id)
        assert counts == {"sent": handed, "pending": size - handed}
        tried = await db.scalar(text("SELECT max(attempts) FROM deliveries WHERE status = 'pending'"))
        assert tried == 0, "a delivery given back has not used up an attempt"

        await campaigns.resume(db, campaign.id)
        await db.commit()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)} and max(received.values()) == 1


async def test_a_pause_as_a_worker_starts_holds_from_its_first_batch(db, worker):
    size = 400
    with SmtpSink(pipelining=True) as sink:
        campaign = await start_campaign(db, size, sink.port)
        sink.hold()
        worker()

        async def all_held() -> bool:
            return sink.held == CONNECTIONS

        await wait_for(all_held, "held a message on every connection")
        await campaigns.pause(db, campaign.id)
        await db.commit()

        async def given_back() -> bool:
            return await claimed(db) == CONNECTIONS

        await wait_for(given_back, "gave back the deliveries claimed but not handed to SMTP")
        sink.release()
        await wait_for_no_claims(db)
        await asyncio.sleep(1)
    assert len(sink.messages) == CONNECTIONS


async def test_cancel_after_pause_sends_nothing_more_and_ends_every_unsent_delivery(db, worker):
    size = 1000
    with SmtpSink(pipelining=True) as sink:
        campaign = await start_campaign(db, size, sink.port)
        campaign_id = campaign.id
        worker()
        handed = await hold_every_connection(db, sink, campaign.id, after=100)
        await campaigns.pause(db, campaign.id)
        await campaigns.cancel(db, campaign.id)
        await db.commit()

        async def ended() -> bool:
            return (await delivery_counts(db, campaign.id)).get("cancelled") == size - handed

        await wait_for(ended, "ended the unsent deliveries as cancelled")
        sink.release()
        await wait_for_no_claims(db)
        await asyncio.sleep(1)
        assert len(sink.messages) == handed
        assert await delivery_counts(db, campaign.id) == {"sent": handed, "cancelled": size - handed}
        assert (await wait_until(db, campaign_id, lambda c: True)).status == "cancelled"


async def test_cancel_while_sending_stops_at_once(db, worker):
    size = 1000
    with SmtpSink(pipelining=True) as sink:
        campaign = await start_campaign(db, size, sink.port)
        worker()
        handed = await hold_every_connection(db, sink, campaign.id, after=100)
        await campaigns.cancel(db, campaign.id)
        await db.commit()

        async def ended() -> bool:
            return (await delivery_counts(db, campaign.id)).get("cancelled") == size - handed

        await wait_for(ended, "ended the unsent deliveries as cancelled")
        sink.release()
        await wait_for_no_claims(db)
        await asyncio.sleep(1)
        assert len(sink.messages) == handed
        assert await delivery_counts(db, campaign.id) == {"sent": handed, "cancelled": size - handed}
