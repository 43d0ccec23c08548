"""A worker told to stop (SIGTERM, as systemd, supervisord, Docker and Kubernetes do) stops cleanly
mid-send: the messages it handed to SMTP are recorded, the ones it claimed but had not sent go
back, and a worker started afterwards finishes the campaign with nobody mailed twice."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.integration.test_send_faults import start_campaign
from tests.integration.test_send_stops import CONNECTIONS, claimed, hold_every_connection, wait_for
from tests.support.campaigns import delivery_counts, wait_for_status
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.long  # minutes: started first

STOP_SECONDS = 30  # a clean stop finishes the messages in SMTP and gives the rest back: seconds


@pytest.mark.parametrize("group", [True, False], ids=["process-group", "main-pid"])
async def test_sigterm_mid_send_stops_the_worker_and_gives_back_what_it_had_not_sent(db, worker, group):
    size = 1000
    with SmtpSink() as sink:
        campaign = await start_campaign(db, size, sink.port)
        first = worker("sigterm-1")
        handed = await hold_every_connection(db, sink, campaign.id, after=100)
        first.terminate(group=group)

        async def given_back() -> bool:
            return await claimed(db) == CONNECTIONS

        await wait_for(given_back, "gave back the deliveries claimed but not handed to SMTP")
        sink.release()
        assert first.exited(STOP_SECONDS), "the worker did not stop after SIGTERM"

        assert await claimed(db) == 0, "a stopped worker keeps no delivery claimed"
        assert len(sink.messages) == handed, "nothing more went out once the worker was told to stop"
        assert await delivery_counts(db, campaign.id) == {"sent": handed, "pending": size - handed}

        worker("sigterm-2")
        done = await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    received = Counter(sink.handler.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)}
    assert max(received.values()) == 1, "nobody got the campaign twice"
    assert done.sent_count == size
