"""The event worker: one consumer per worker process, running on the process's actor event loop
for as long as the process lives, applying buffered opens and clicks batch after batch
(service/hits.py says how, and why nothing is lost or counted twice)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.tracking.service import hits

log = logging.getLogger("mailroom.events")

WAIT_MS = 1000  # how long a read waits for new hits (and so how soon a stop is noticed)
RETRY_SECONDS = 1.0
FORGET_CONSUMERS_AFTER_MS = 24 * 3600 * 1000


class EventConsumer:
    def __init__(self) -> None:
        self.name = f"{socket.gethostname()}-{os.getpid()}"  # a killed process's entries stay under its name
        self.stopping = False

    async def run(self) -> None:
        redis, sessions = get_redis(), get_sessionmaker()
        try:
            await hits.ensure_group(redis)
            await hits.forget_idle_consumers(redis, FORGET_CONSUMERS_AFTER_MS)
        except Exception:
            log.exception("tidying the event consumers failed")
        while not self.stopping:
            try:
                await hits.apply_next(redis, sessions, self.name, WAIT_MS)
            except Exception:  # the database or Redis is away: its entries stay pending, try again
                log.exception("applying tracking events failed")
                await asyncio.sleep(RETRY_SECONDS)
