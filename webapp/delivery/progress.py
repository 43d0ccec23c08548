"""Campaign progress events on Redis pub/sub (channel campaign:<id>), with the message shapes of
seed 000's WebSocket events, consumed by the SSE and WebSocket endpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from webapp.campaigns.models import Campaign


def channel(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def final_stats(c: Campaign) -> dict[str, float]:
    delivered = c.sent_count
    return {
        "open_rate": rate(c.opened_count, delivered),
        "click_rate": rate(c.clicked_count, delivered),
        "bounce_rate": rate(c.bounced_count, c.sent_count + c.failed_count),
        "unsubscribe_rate": rate(c.unsubscribed_count, delivered),
    }


def progress_event(c: Campaign) -> dict[str, Any]:
    done = c.sent_count + c.failed_count
    return {
        "type": "campaign_progress",
        "campaign_id": c.id,
        "sent_count": c.sent_count,
        "failed_count": c.failed_count,
        "total_recipients": c.total_recipients,
        "progress": rate(done, c.total_recipients) if c.total_recipients else (100.0 if c.status == "sent" else 0.0),
        "timestamp": _now(),
    }


def status_event(c: Campaign) -> dict[str, Any]:
    return {
        "type": "campaign_status",
        "campaign": {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "reason": c.status_reason,
            "progress": progress_event(c)["progress"],
        },
        "timestamp": _now(),
    }


def completed_event(c: Campaign) -> dict[str, Any]:
    return {"type": "campaign_completed", "campaign_id": c.id, "final_stats": final_stats(c), "timestamp": _now()}


async def publish(redis: Redis, campaign_id: int, event: dict[str, Any]) -> None:
    await redis.publish(channel(campaign_id), json.dumps(event))
