"""A worker told to stop (SIGTERM, as systemd, supervisord, Docker and Kubernetes do) stops cleanly
mid-send: the messages it handed to SMTP are recorded, the ones it claimed but had not sent go
back, and a worker started afterwards finishes the campaign with nobody mailed twice."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text

from tests.integration.test_send_faults import start_campaign, wait_until
from tests.support.campaigns import delivery_counts, wait_for_status
from tests.support.smtp import SmtpSink

STOP_SECONDS = 30  # a clean stop finishes the messages in SMTP and gives the rest back: seconds


@pytest.mark.parametrize("group", [True, False], ids=["process-group", "main-pid"])
async def test_sigterm_mid_send_stops_the_worker_and_gives_back_what_it_had_not_sent(db, worker, group):
    size = 1500
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        first = worker("sigterm-1")
        await wait_until(db, campaign.id, lambda c: c.sent_count >= 100)
        first.terminate(group=group)
        assert first.exited(STOP_SECONDS), "the worker did not stop after SIGTERM"

        held = await db.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'sending'"))
        assert held == 0, "a stopped worker keeps no delivery claimed"
        stopped_at = len(sink.messages)
        assert stopped_at < size, "the worker was stopped mid-send"
        recorded = (await delivery_counts(db, campaign.id)).get("sent", 0)
        assert recorded == stopped_at, "every message the server accepted is recorded as sent"

        worker("sigterm-2")
        done = await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)}
    assert max(received.values()) == 1, "nobody got the campaign twice"
    assert done.sent_count == size
