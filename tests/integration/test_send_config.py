"""Configuration changes reach a running send at once: a deactivated SMTP server gets nothing more
once the change has committed (beyond the messages it already has), a per-second limit holds across
every worker process and applies as soon as it is saved, the priority order is kept (a backup
relay is used only when the primary cannot take mail), and a changed organisation footer appears
in the messages sent afterwards."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import text

from tests.integration.test_send_faults import start_campaign, wait_until
from tests.integration.test_send_stops import CONNECTIONS, wait_for
from tests.support.campaigns import audience, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns
from webapp.settings.service import organisation as org_settings
from webapp.settings.service import smtp_servers

NOTICE_SECONDS = 0.5  # how long a saved change may take to reach a worker


def most_in_one_second(arrivals: list[float]) -> int:
    """The most messages that arrived within any one second."""
    arrivals = sorted(arrivals)
    most, first = 0, 0
    for last, at in enumerate(arrivals):
        while at - arrivals[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_a_deactivated_server_gets_nothing_more_after_the_change_commits(db, worker):
    size = 1000
    with SmtpSink(pipelining=True) as primary, SmtpSink() as backup:  # joined envelopes wait behind held messages
        campaign = await start_campaign(db, size, primary.port, backup.port)
        worker()
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 100)
        primary.hold()

        async def all_held() -> bool:
            return primary.held == CONNECTIONS

        await wait_for(all_held, "held a message on every connection")
        handed = len(primary.messages) + primary.held
        server_id = await db.scalar(text("SELECT id FROM smtp_servers WHERE port = :p"), {"p": primary.port})
        (await smtp_servers.get_server(db, server_id)).is_active = False  # as the SMTP settings page saves it
        await db.commit()

        async def backup_took_over() -> bool:
            return len(backup.messages) > 0

        await wait_for(backup_took_over, "sent through the backup")
        primary.release()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    assert len(primary.messages) == handed, f"{len(primary.messages) - handed} more went to the deactivated server"
    received = Counter(primary.handler.recipients() + backup.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)} and max(received.values()) == 1


async def test_a_per_second_limit_holds_across_worker_processes(db, worker):
    rate, size, processes = 5, 30, 2
    with SmtpSink() as sink:
        email_list = await audience(db, size)
        server = await smtp_server(db, sink.port, max_connections=1)
        server.rate_per_second = rate
        campaign = await ready_campaign(db, [email_list.id])
        await campaigns.send_now(db, campaign.id)
        await db.commit()
        worker("rate-1", MAILROOM_SEND_BATCH_SIZE="5")
        worker("rate-2", MAILROOM_SEND_BATCH_SIZE="5")
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)
    assert len(sink.messages) == size
    # Beyond the rate: the message one second later, and one per process held up by a slow moment
    # of the test's SMTP server and then let through together.
    assert most_in_one_second(sink.handler.arrivals) <= rate + 1 + processes


async def test_a_new_per_second_limit_applies_at_once(db, worker):
    rate, size = 4, 2000
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        worker()
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 100)
        server_id = await db.scalar(text("SELECT id FROM smtp_servers"))
        (await smtp_servers.get_server(db, server_id)).rate_per_second = rate
        await db.commit()
        saved = time.monotonic()
        await asyncio.sleep(4)
        # The change reaches the worker by NOTIFY, and until it reads the new configuration messages go
        # as before (hundreds a second here): on a busy machine that takes a few tens of milliseconds.
        after = [arrived for arrived in sink.handler.arrivals if arrived > saved + NOTICE_SECONDS]
        assert after, "sending went on under the new limit"
        assert most_in_one_second(after) <= rate + 1 + CONNECTIONS  # as above, one per connection
        await campaigns.pause(db, campaign.id)
        await db.commit()


async def test_the_backup_relay_is_used_only_when_the_primary_cannot_take_mail(db, worker):
    with SmtpSink() as primary, SmtpSink() as backup:
        campaign = await start_campaign(db, 300, primary.port, backup.port)
        worker()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)
    assert (len(primary.messages), len(backup.messages)) == (300, 0)


async def test_a_changed_footer_reaches_the_messages_sent_after_it(db, worker):
    size = 600
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        worker(MAILROOM_SEND_BATCH_SIZE="20")
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 100)
        await org_settings.save(
            db,
            org_settings.OrgSettings(organisation_name="Mailroom Tests Ltd", postal_address="2 New Road, Newtown"),
        )
        await db.commit()
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    def footer(message) -> str:
        return message.get_body(("html",)).get_content()

    assert "1 Test Street" in footer(sink.messages[0])
    last = sink.messages[-1]
    assert "2 New Road, Newtown" in footer(last) and "1 Test Street" not in footer(last)
