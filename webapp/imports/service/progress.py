"""Import progress on Redis pub/sub (channel import:<job id>). The message only says "look again":
the job page's SSE stream reads the job row and renders it, so a lost message costs nothing."""

from __future__ import annotations

import json
import logging
from functools import lru_cache

import redis

from webapp.core.config import get_settings

log = logging.getLogger("mailroom.imports")


def channel(job_id: int) -> str:
    return f"import:{job_id}"


@lru_cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis.url)


def publish(job_id: int) -> None:
    """Tell open job pages that the job changed. Progress is a courtesy: failures are only logged."""
    try:
        _client().publish(channel(job_id), json.dumps({"type": "import_progress", "job_id": job_id}))
    except (redis.RedisError, OSError) as exc:
        log.warning("could not publish progress of import %s: %s", job_id, exc)
