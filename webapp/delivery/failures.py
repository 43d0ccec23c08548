"""Failed messages in a row per campaign, counted in Redis by every worker as each failure happens,
so MAILROOM_PAUSE_AFTER_FAILURES holds however many batches run at once. The worker whose failure
reaches it stops its own batches at once and pauses the campaign; another stops its batches as soon
as one of its own failures finds the count there. Either holds them stopped until the pause commits
(it may wait for a lock), though the campaign still reads as sending meanwhile. A message sent
anywhere ends the run."""

from __future__ import annotations

import contextlib
from collections import Counter

from webapp.campaigns.models import CampaignStatus
from webapp.campaigns.service import sending
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.delivery import progress
from webapp.delivery.queries import Outcome
from webapp.delivery.watch import watch


def failures_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:consecutive-failures"


class FailureRun:
    def __init__(self) -> None:
        # Campaigns this process added failures to since its last success: only then does a
        # success need to reset the count, so a send without failures costs no Redis call.
        self.counting: set[int] = set()
        # The count Redis last gave this process, and its failures on their way there. Their sum
        # reaches the limit as the failure happens: refusals come back faster than their count
        # reaches Redis, and each free session would take another message meanwhile.
        self.counted: dict[int, int] = {}
        self.uncounted: Counter[int] = Counter()
        self.pausing: set[int] = set()

    async def note(self, campaign_id: int, outcome: Outcome) -> None:
        redis = get_redis()
        if outcome.status == "sent":
            self.counted.pop(campaign_id, None)
            if campaign_id in self.counting:
                self.counting.discard(campaign_id)
                await redis.delete(failures_key(campaign_id))
            return
        if not outcome.failure:
            return
        self.counting.add(campaign_id)
        limit = get_settings().delivery.pause_after_failures
        self.uncounted[campaign_id] += 1
        reached = self.counted.get(campaign_id, 0) + self.uncounted[campaign_id] >= limit
        with watch.held(campaign_id) if reached else contextlib.nullcontext():  # this process's batches stop now
            try:
                failures = await redis.incr(failures_key(campaign_id))
            finally:
                self.uncounted[campaign_id] -= 1
            # The latest count, not the last reply: calls on different connections may answer out of order.
            self.counted[campaign_id] = max(failures, self.counted.get(campaign_id, 0))
            if failures >= limit and campaign_id not in self.pausing:  # the count across workers decides
                self.pausing.add(campaign_id)
                try:
                    with watch.held(campaign_id):  # until the pause commits, whatever a read of the campaign says
                        if await pause(campaign_id, failures, outcome.error, servers_down=outcome.unreachable):
                            watch.saw(campaign_id, CampaignStatus.PAUSED.value)
                finally:
                    self.pausing.discard(campaign_id)
                    self.counted.pop(campaign_id, None)  # the run starts afresh when the campaign resumes


async def pause(campaign_id: int, failures: int, last_error: str, *, servers_down: bool) -> bool:
    """Whether this call paused the campaign (False: it was no longer sending)."""
    async with get_sessionmaker()() as session:
        campaign = await sending.pause_after_failures(
            session, campaign_id, failures, last_error, servers_down=servers_down
        )
        if campaign is None:
            return False
        await session.commit()
    await get_redis().delete(failures_key(campaign_id))
    await progress.publish(get_redis(), campaign_id, progress.status_event(campaign))
    return True


failure_run = FailureRun()
