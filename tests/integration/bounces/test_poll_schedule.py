"""The scheduler tick polls the bounce mailbox when its interval has passed, one poll at a time
across workers; a running worker process picks bounces up by itself."""

from __future__ import annotations

import asyncio
import json

from tests.integration.bounces.test_polling import configure, mail_for
from tests.integration.test_feedback_rates import sending_campaign
from tests.integration.test_feedback_record import campaign, contact_status, sent_campaign
from webapp.bounces import actors
from webapp.core.redis import get_redis
from webapp.delivery import progress
from webapp.delivery.broker import broker

QUEUE = f"{broker.namespace}:{actors.QUEUE}"  # where the Redis broker queues messages


async def test_one_poll_per_interval_and_none_while_one_runs(db, dovecot):
    redis = get_redis()
    await actors.start_if_due()
    assert await redis.llen(QUEUE) == 0  # no mailbox configured

    await configure(db, dovecot)
    await actors.start_if_due()
    await actors.start_if_due()
    assert await redis.llen(QUEUE) == 1  # the second tick found the first poll running

    await redis.delete(actors.RUNNING_KEY)  # that poll is done
    await actors.start_if_due()
    assert await redis.llen(QUEUE) == 1  # and the interval has not passed

    await redis.delete(actors.DUE_KEY)  # the interval has passed
    await actors.start_if_due()
    assert await redis.llen(QUEUE) == 2


async def test_a_worker_reads_the_mailbox_by_itself(db, clean_mailbox, worker):
    dovecot = clean_mailbox
    _, (bounced, *_) = await sent_campaign(db)
    await configure(db, dovecot)
    dovecot.deliver(mail_for(bounced, "postfix-hard"))
    worker()
    for _ in range(300):
        if await contact_status(db, bounced.email) == "bounced":
            break
        await asyncio.sleep(0.1)
        db.expire_all()
    assert await contact_status(db, bounced.email) == "bounced"


async def test_complaints_that_pause_a_campaign_are_announced_to_its_live_pages(db, clean_mailbox):
    """Three complaints in a thousand delivered pause the campaign (feedback's rule); the poll then
    tells the campaign's live pages, as a staff pause does."""
    campaign_id, deliveries = await sending_campaign(db, 1000)
    await configure(db, clean_mailbox)
    clean_mailbox.deliver(*(mail_for(d, "arf-abuse") for d in deliveries))
    listener = get_redis().pubsub()
    await listener.subscribe(progress.channel(campaign_id))
    await listener.get_message(timeout=1)  # the subscription's own confirmation

    await actors.poll_and_announce()

    message = await listener.get_message(timeout=10)
    await listener.aclose()
    assert message is not None, "no status event on the campaign's channel"
    event = json.loads(message["data"])
    assert (event["type"], event["campaign"]["status"]) == ("campaign_status", "paused")
    assert (await campaign(db, campaign_id)).status == "paused"
    assert not await get_redis().exists(actors.RUNNING_KEY)
