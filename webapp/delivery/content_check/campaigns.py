"""A campaign's content check, kept on the campaign (campaigns/service/content_check.py): made
again only when its content changed since the last, or when staff ask for it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.campaigns.service import content_check as kept
from webapp.campaigns.service.content_check import Verdict
from webapp.delivery.content_check import run


async def check_campaign(session: AsyncSession, campaign: Campaign, *, again: bool = False) -> Verdict:
    if not again and (found := await kept.verdict(session, campaign)) is not None:
        return found
    report = await run(session, campaign)
    return await kept.record(session, campaign, report.as_dict())


async def check_before_sending(session: AsyncSession, campaign_id: int) -> None:
    """Make sure the kept check is for the current content before send_now or schedule judge it.
    Committed, so the report stays on the campaign even when sending is then refused."""
    await check_campaign(session, await campaigns.get_campaign(session, campaign_id))
    await session.commit()
