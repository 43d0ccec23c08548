"""Campaign progress events on Redis pub/sub (channel campaign:<id>), with the message shapes of
seed 000's WebSocket events, consumed by the SSE and WebSocket endpoints. The figures in them are
the campaigns service's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.service.progress import progress_of, rates
from webapp.core.redis import get_redis

Event = dict[str, Any]


def channel(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def progress_event(c: Campaign) -> Event:
    return {
        "type": "campaign_progress",
        "campaign_id": c.id,
        "sent_count": c.sent_count,
        "failed_count": c.failed_count,
        "skipped_count": c.skipped_count,
        "total_recipients": c.total_recipients,
        "progress": progress_of(c).percent,
        "timestamp": _now(),
    }


def status_event(c: Campaign) -> Event:
    return {
        "type": "campaign_status",
        "campaign": {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "reason": c.status_reason,
            "progress": progress_of(c).percent,
        },
        "timestamp": _now(),
    }


def completed_event(c: Campaign) -> Event:
    return {"type": "campaign_completed", "campaign_id": c.id, "final_stats": rates(c), "timestamp": _now()}


async def publish(redis: Redis, campaign_id: int, event: Event) -> None:
    await redis.publish(channel(campaign_id), json.dumps(event))


async def announce(session: AsyncSession, campaign: Campaign) -> None:
    """After staff or the API changed a campaign's status: commit, then tell live pages."""
    await session.commit()
    await publish(get_redis(), campaign.id, status_event(campaign))
