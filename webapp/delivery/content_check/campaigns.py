"""A campaign's content check, kept on the campaign (campaigns/service/content_check.py): made
again only when its content changed since the last, or when staff ask for it. An A/B test's
variants are each checked as the message they send."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service as abtests
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns, readiness
from webapp.campaigns.service import content_check as kept
from webapp.campaigns.service.content_check import Verdict
from webapp.core.errors import ValidationFailed
from webapp.delivery.campaign_message import MessageSource, with_variant
from webapp.delivery.content_check import run
from webapp.delivery.content_check.findings import worst_of


async def check_campaign(session: AsyncSession, campaign: Campaign, *, again: bool = False) -> Verdict:
    if not again and (found := await kept.verdict(session, campaign)) is not None:
        return found
    ab_test = await abtests.test_of_campaign(session, campaign.id)
    sources: list[tuple[str, MessageSource]] = (
        [(v.label, with_variant(campaign, v)) for v in ab_test[1]] if ab_test else [("", campaign)]
    )
    reports = [(label, await run(session, source)) for label, source in sources]  # one session: in turn
    return await kept.record(session, campaign, worst_of(reports))


async def check_before_sending(session: AsyncSession, campaign_id: int) -> None:
    """Make sure the kept check is for the current content before send_now or schedule judge it.
    Committed, so the report stays on the campaign even when sending is then refused. Content that
    does not render is refused with everything else that stops the campaign, not on its own."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    try:
        await check_campaign(session, campaign)
    except ValidationFailed as failed:
        raise ValidationFailed({**failed.errors, **(await readiness.check(session, campaign)).problems}) from None
    await session.commit()
