"""Where a tracked link goes, answered from memory: a link's campaign and URL never change once a
campaign is sent, nor a delivery's campaign, so both are cached per process (bounded, least
recently used first out). A click whose link is not of its delivery's campaign is refused: the
token (HMAC-signed) names the campaign, or, in mail sent before it did, the delivery is looked up."""

from __future__ import annotations

from async_lru import alru_cache

from webapp.core.db import get_sessionmaker
from webapp.core.errors import NotFound
from webapp.core.tokens import LINK_GONE, TEST_DELIVERY_ID
from webapp.tracking import queries

CACHED_LINKS = 100_000
CACHED_DELIVERIES = 200_000  # about 30 MB; a miss costs one primary-key read


@alru_cache(maxsize=CACHED_LINKS)
async def _link(link_id: int) -> tuple[int, str] | None:
    async with get_sessionmaker()() as session:
        return await queries.link(session, link_id)


@alru_cache(maxsize=CACHED_DELIVERIES)
async def _campaign_of(delivery_id: int) -> int | None:
    async with get_sessionmaker()() as session:
        return await queries.campaign_of(session, delivery_id)


async def destination(delivery_id: int, link_id: int, signed_campaign_id: int | None) -> str:
    """The stored destination of the delivery's campaign's link. The campaign is signed into the
    token of links sent since it was added; older ones need the delivery's campaign. A test send's
    links name TEST_DELIVERY_ID and a link of the campaign tested."""
    link = await _link(link_id)
    if link is None:
        raise NotFound(LINK_GONE)
    campaign_id, url = link
    if signed_campaign_id is not None:
        if signed_campaign_id != campaign_id:
            raise NotFound(LINK_GONE)
    elif delivery_id != TEST_DELIVERY_ID and await _campaign_of(delivery_id) != campaign_id:
        raise NotFound(LINK_GONE)
    return url
