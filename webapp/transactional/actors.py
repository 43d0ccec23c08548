"""The transactional sender's actors, on a queue of their own so a message never waits behind
campaign batches (on the "send" queue): each request's message is sent as soon as a worker takes
it; the scheduler tick sends those still due (retries after a 4xx reply, a queue message lost)."""

from __future__ import annotations

import asyncio
import time

import dramatiq

from webapp.core.redis import get_redis
from webapp.delivery import transactional_mail
from webapp.delivery.broker import broker  # noqa: F401  (sets the broker before any actor is declared)
from webapp.delivery.pipeline import HEARTBEAT_SECONDS
from webapp.delivery.watch import watch

QUEUE = "transactional"
# Lower runs first: of the messages a worker has fetched, a transactional one goes before campaign
# batches and other work (Dramatiq's default priority is 0).
PRIORITY = -10
MAX_RETRIES, MIN_BACKOFF_MS, MAX_BACKOFF_MS = 20, 1_000, 60_000
TIME_LIMIT_MS = 5 * 60_000
SEND_SLICE_SECONDS = 30.0


@dramatiq.actor(
    queue_name=QUEUE,
    priority=PRIORITY,
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=TIME_LIMIT_MS,
)
async def send_message(delivery_id: int) -> None:
    """Send this message if it is still due (a second run finds it claimed or sent, and does nothing)."""
    await transactional_mail.send(delivery_id)


@dramatiq.actor(
    queue_name=QUEUE,
    priority=PRIORITY,
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    time_limit=TIME_LIMIT_MS,
)
async def send_due() -> None:
    """Send due messages batch after batch for a while, then hand over to a fresh message; once
    none is due, end (the tick starts a chain again when needed)."""
    until = time.monotonic() + SEND_SLICE_SECONDS
    while time.monotonic() < until:
        if watch.stopping or not await transactional_mail.send():
            await get_redis().delete(transactional_mail.HEARTBEAT_KEY)
            return
    send_due.send()


async def start_if_due() -> None:
    """Start sending due messages when some wait and no worker is at it (run by the tick)."""
    if not await get_redis().exists(transactional_mail.HEARTBEAT_KEY) and await transactional_mail.unfinished():
        await get_redis().set(transactional_mail.HEARTBEAT_KEY, "1", ex=HEARTBEAT_SECONDS)
        send_due.send()


async def enqueue(delivery_id: int) -> None:
    """Have a worker send the message now (after the request's transaction committed); the broker
    client blocks, so off the event loop."""
    await asyncio.to_thread(send_message.send, delivery_id)
