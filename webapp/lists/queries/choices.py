"""What the segment builder offers in its pickers: static lists, campaigns that were sent, and the
custom field names in use. Each is one small query, cheap on a table of millions of contacts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignKind, CampaignStatus
from webapp.lists.models import EmailList, ListType

MAX_CHOICES = 500
CUSTOM_FIELD_SAMPLE = 5000  # the newest contacts; the (date_added, id) index reads them directly
MAX_CUSTOM_KEYS = 200
NOT_SENT = (CampaignStatus.DRAFT.value, CampaignStatus.SCHEDULED.value)


async def static_lists(session: AsyncSession) -> list[EmailList]:
    query = (
        select(EmailList)
        .where(EmailList.list_type == ListType.STATIC.value)
        .order_by(func.lower(EmailList.name), EmailList.id)
        .limit(MAX_CHOICES)
    )
    return list(await session.scalars(query))


async def sent_campaigns(session: AsyncSession) -> list[tuple[int, str]]:
    """Campaigns that have recipients (anything past draft and scheduled), newest first."""
    query = (
        select(Campaign.id, Campaign.name)
        .where(Campaign.status.not_in(NOT_SENT), Campaign.kind == CampaignKind.MARKETING.value)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(MAX_CHOICES)
    )
    return [(row.id, row.name) for row in await session.execute(query)]


async def custom_field_keys(session: AsyncSession) -> list[str]:
    """Custom field names of recently added contacts: a suggestion list, not a census."""
    result = await session.execute(
        text("""
            WITH recent AS MATERIALIZED (
                SELECT custom_fields FROM contacts ORDER BY date_added DESC, id DESC LIMIT :sample
            )
            SELECT DISTINCT key FROM recent
            CROSS JOIN LATERAL jsonb_object_keys(
                CASE WHEN jsonb_typeof(recent.custom_fields) = 'object' THEN recent.custom_fields ELSE '{}' END
            ) AS key
            ORDER BY key LIMIT :most
        """),
        {"sample": CUSTOM_FIELD_SAMPLE, "most": MAX_CUSTOM_KEYS},
    )
    return list(result.scalars())


async def names_of(
    session: AsyncSession, list_ids: Iterable[int], campaign_ids: Iterable[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """Names of the lists and campaigns that rules refer to."""
    list_ids, campaign_ids = list(list_ids), list(campaign_ids)
    lists: dict[int, str] = {}
    campaigns: dict[int, str] = {}
    if list_ids:
        rows = await session.execute(select(EmailList.id, EmailList.name).where(EmailList.id.in_(list_ids)))
        lists = {row.id: row.name for row in rows}
    if campaign_ids:
        rows = await session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(campaign_ids)))
        campaigns = {row.id: row.name for row in rows}
    return lists, campaigns
