"""The public archive (/archive): the campaigns staff chose to publish, listed once sent for anyone
to read. Staff turn it on in a campaign's settings, or on and off on its page at any time (also
after sending, which no other setting allows). Only marketing campaigns are archived: an
automation's emails and transactional messages are written for one person at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignKind
from webapp.campaigns.queries import archive as queries
from webapp.campaigns.queries.archive import ArchivedPage
from webapp.campaigns.schemas.campaign import ArchiveIn
from webapp.campaigns.service.campaigns import get_campaign
from webapp.core.errors import Conflict, NotFound
from webapp.core.i18n import N_
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id

PAGE_SIZE = 20
NOT_IN_ARCHIVE = N_("This newsletter is not in the archive.")
NOT_ARCHIVABLE = "Only campaigns sent to lists go in the public archive."


async def page(session: AsyncSession, cursor: str | None = None) -> ArchivedPage:
    """The archived campaigns, newest first, a page at a time."""
    return await queries.archived(session, limit=PAGE_SIZE, cursor=cursor)


async def has_any(session: AsyncSession) -> bool:
    """Whether the archive shows anything (the sign-up page then links to it)."""
    return await queries.any_archived(session)


async def archived(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await queries.archived_campaign(session, campaign_id) if is_valid_id(campaign_id) else None
    if campaign is None:
        raise NotFound(NOT_IN_ARCHIVE)
    return campaign


async def set_archived(session: AsyncSession, campaign_id: int, data: Mapping[str, Any]) -> Campaign:
    """Publish the campaign in the archive (from when it is sent) or take it out."""
    archive = load(ArchiveIn, data)["archive"]
    campaign = await get_campaign(session, campaign_id, for_update=True)
    if campaign.kind != CampaignKind.MARKETING.value:
        raise Conflict(NOT_ARCHIVABLE)
    campaign.settings = {**campaign.settings, "archive": archive}
    await session.flush()
    await session.refresh(campaign)
    return campaign
