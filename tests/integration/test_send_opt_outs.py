"""An opt-out takes effect before the next message of any kind, even one already claimed: a batch's
messages can wait their turn at a slow or rate-limited server long after the claim looked at who
may be mailed. The database tells the workers at once (migration 0029, watch.py), and a message
whose contact opted out meanwhile is given back when its turn comes; the next claim skips it and
says why. Only a message already handed to a server still goes.

The SMTP server holds its messages in DATA (as in test_send_stops.py), so the test knows which
messages were handed over, and opts out contacts whose messages the worker has claimed and not."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import text

from tests.integration.test_send_faults import start_campaign, wait_for_no_claims
from tests.integration.test_send_stops import hold_every_connection
from tests.support.campaigns import wait_for_status
from tests.support.smtp import SmtpSink
from webapp.contacts import service as contacts
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.suppression.service import gdpr, suppression

SIZE = 600


async def claimed_not_handed(db, campaign_id: int, n: int) -> list[tuple[int, int, str]]:
    """(delivery id, contact id, address) of the last `n` messages claimed: they queue behind the
    held ones, which a worker hands over first (one per connection)."""
    rows = await db.execute(
        text("""SELECT id, contact_id, email FROM deliveries WHERE campaign_id = :c AND status = 'sending'
                ORDER BY id DESC LIMIT :n"""),
        {"c": campaign_id, "n": n},
    )
    found = [tuple(row) for row in rows]
    assert len(found) == n, "the worker has claimed more messages than it could hand over"
    return found


async def skipped(db, campaign_id: int) -> dict[int, str]:
    """Each skipped delivery's reason, by delivery id."""
    rows = await db.execute(
        text("SELECT id, error_message FROM deliveries WHERE campaign_id = :c AND status = 'skipped'"),
        {"c": campaign_id},
    )
    return dict(rows.all())


async def test_an_opt_out_stops_a_message_already_claimed_and_not_handed_over(db, worker):
    with SmtpSink(pipelining=True) as sink:
        campaign = await start_campaign(db, SIZE, sink.port)
        worker()
        await hold_every_connection(db, sink, campaign.id, after=100)
        unsubscribed, suppressed, switched_off, deleted, erased = await claimed_not_handed(db, campaign.id, 5)

        await subscriptions.unsubscribe_all(db, unsubscribed[1], Origin("preference centre"))
        await suppression.add(db, suppressed[2], "manual", note="asked by phone")
        await contacts.update_contact(db, switched_off[1], {"is_active": False})
        await contacts.delete_contacts(db, [deleted[1]])
        await gdpr.erase_contact(db, erased[1], "admin@example.com")
        await db.commit()
        await asyncio.sleep(1)  # for the notification to reach the worker
        sink.release()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)
        await wait_for_no_claims(db)

    received = Counter(sink.handler.recipients())
    stopped = {unsubscribed[2], suppressed[2], switched_off[2], deleted[2], erased[2]}
    assert stopped.isdisjoint(received), f"{stopped & set(received)} got the campaign after opting out"
    assert set(received) == {f"person{i}@example.com" for i in range(SIZE)} - stopped
    assert max(received.values()) == 1
    assert await skipped(db, campaign.id) == {
        unsubscribed[0]: "Not sent: the contact is unsubscribed.",
        suppressed[0]: "Not sent: the address is on the suppression list.",
        switched_off[0]: "Not sent: the contact is inactive.",
        deleted[0]: "Not sent: the contact was deleted or erased.",
        erased[0]: "Not sent: the contact was erased.",
    }


async def test_opt_outs_too_many_to_name_in_one_transaction_make_every_batch_look_again(db, worker):
    with SmtpSink(pipelining=True) as sink:
        campaign = await start_campaign(db, SIZE, sink.port)
        await db.execute(
            text("""INSERT INTO contacts (email) SELECT 'other' || i || '@example.com'
                    FROM generate_series(1, 501) i"""),
        )
        await db.commit()
        worker()
        await hold_every_connection(db, sink, campaign.id, after=100)
        late = await claimed_not_handed(db, campaign.id, 2)

        # One transaction, as an import in unsubscribe mode: the 501 others use up the named
        # notifications, so the two recipients in flight are covered only by the '*'.
        await db.execute(text("UPDATE contacts SET status = 'unsubscribed' WHERE email LIKE 'other%'"))
        await db.execute(
            text("UPDATE contacts SET status = 'unsubscribed' WHERE id = ANY(:ids)"), {"ids": [c for _, c, _ in late]}
        )
        await db.commit()
        await asyncio.sleep(1)
        sink.release()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)
        await wait_for_no_claims(db)

    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(SIZE)} - {email for _, _, email in late}
    assert max(received.values()) == 1, "the messages given back for a second look went once"
    assert set(await skipped(db, campaign.id)) == {delivery_id for delivery_id, _, _ in late}


async def test_an_opt_out_while_the_worker_was_not_listening_is_caught_when_it_listens_again(db, worker):
    with SmtpSink(pipelining=True) as sink:
        campaign = await start_campaign(db, SIZE, sink.port)
        worker()
        await hold_every_connection(db, sink, campaign.id, after=100)
        [(_, contact_id, email)] = await claimed_not_handed(db, campaign.id, 1)

        # The worker's watch LISTENs on one connection and reads its campaigns' statuses there every second.
        listener = await db.scalar(
            text("""SELECT pid FROM pg_stat_activity WHERE datname = current_database()
                    AND (query = 'LISTEN "mailroom_opt_outs"'
                         OR query LIKE 'SELECT id, status FROM campaigns WHERE id = ANY%')""")
        )
        assert listener is not None
        await db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener})
        await db.commit()  # it reconnects a second later: this opt-out's notification reaches nobody
        await db.execute(text("UPDATE contacts SET status = 'unsubscribed' WHERE id = :c"), {"c": contact_id})
        await db.commit()
        await asyncio.sleep(2)  # listening again, every batch in flight looks again at all its contacts
        sink.release()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)
        await wait_for_no_claims(db)

    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(SIZE)} - {email}
    assert max(received.values()) == 1
