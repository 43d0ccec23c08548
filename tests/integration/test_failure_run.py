"""The failures-in-a-row counter of one worker process: its own batches stop as the failure that
reaches the limit happens, before Redis has counted it, and the count in Redis pauses the campaign."""

from __future__ import annotations

import asyncio

from tests.support.campaigns import audience, ready_campaign
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.core.config import get_settings
from webapp.core.redis import get_redis
from webapp.delivery.failures import FailureRun, failures_key
from webapp.delivery.queries import Outcome
from webapp.delivery.watch import SENDING, watch


def refused(delivery_id: int) -> Outcome:
    return Outcome(delivery_id, "pending", "554 5.7.1 Relay access denied")


async def test_a_processes_batches_stop_as_its_failure_reaches_the_limit_and_redis_pauses_the_campaign(db):
    c = await ready_campaign(db, [(await audience(db, 2)).id])
    await campaigns.send_now(db, c.id)
    await db.commit()
    limit = get_settings().delivery.pause_after_failures
    run = FailureRun()
    watch.saw(c.id, SENDING)
    for i in range(limit - 1):
        await run.note(c.id, refused(i))
    assert watch.sending(c.id) and int(await get_redis().get(failures_key(c.id))) == limit - 1

    last = asyncio.ensure_future(run.note(c.id, refused(limit)))
    try:
        await asyncio.sleep(0)  # the note runs up to its Redis call, whose answer has not come yet
        assert not last.done() and not watch.sending(c.id)  # stopped already
        await last
    finally:
        watch.statuses.pop(c.id, None)  # this process's view, shared with the tests that follow
    paused = await db.get(Campaign, c.id, populate_existing=True)
    assert paused.status == "paused" and "Relay access denied" in paused.status_reason
    assert await get_redis().get(failures_key(c.id)) is None  # a resume starts the count afresh
