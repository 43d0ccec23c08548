"""What the campaign pages and the API list: campaigns newest first, a campaign's lists and
recipients, and one contact's campaigns (for the contact's page). See queries/listing.py for how."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.queries import listing
from webapp.campaigns.queries.listing import CampaignPage, DeliveryPage, HistoryEntry
from webapp.lists.models import EmailList

HISTORY_LENGTH = 50


def is_campaign_cursor(cursor: str) -> bool:
    return listing.is_campaign_cursor(cursor)


def is_delivery_cursor(cursor: str) -> bool:
    return listing.is_delivery_cursor(cursor)


async def find_campaigns(
    session: AsyncSession,
    *,
    status: str | None = None,
    created_by: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> CampaignPage:
    return await listing.find_campaigns(session, status=status, created_by=created_by, limit=limit, cursor=cursor)


async def list_ids_by_campaign(session: AsyncSession, campaign_ids: list[int]) -> dict[int, list[int]]:
    return await listing.list_ids_by_campaign(session, campaign_ids)


async def lists_of(session: AsyncSession, campaign_id: int) -> list[EmailList]:
    return await listing.lists_of(session, campaign_id)


async def find_deliveries(
    session: AsyncSession,
    campaign_id: int,
    *,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    with_contacts: bool = False,
) -> DeliveryPage:
    return await listing.find_deliveries(
        session, campaign_id, status=status, limit=limit, cursor=cursor, with_contacts=with_contacts
    )


async def history_of_contact(session: AsyncSession, contact_id: int) -> list[HistoryEntry]:
    """The contact's most recent emails (campaigns', automations' and transactional), newest first."""
    return await listing.history_of_contact(session, contact_id, HISTORY_LENGTH)


async def unsent_to_list(session: AsyncSession, list_id: int) -> list[Campaign]:
    """Campaigns going to this list that have not finished: what deleting the list would change."""
    return await listing.unsent_to_list(session, list_id)
