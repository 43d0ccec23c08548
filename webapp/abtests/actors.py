"""The A/B tests' background work, run by the scheduler tick: decide the tests whose wait is over
and send the winner to the rest through the campaign's usual send."""

from __future__ import annotations

from webapp.abtests.service import sending
from webapp.core.db import get_sessionmaker
from webapp.delivery.actors import start_campaign


async def decide_due() -> None:
    """Safe in several workers at once: each test is decided and released once (service)."""
    async with get_sessionmaker()() as session:
        released = await sending.decide_due(session)
    for campaign_id in released:
        start_campaign.send(campaign_id)
