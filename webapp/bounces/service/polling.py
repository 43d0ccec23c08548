"""One poll of the bounce mailbox: read what waits in batches, turn DSNs and complaints into
FeedbackEvents, record them (feedback.service.record), and only after that transaction commits
delete the messages it came from: a crash in between reads them again, and recording the same
report twice changes nothing (at-least-once).

Mail that is not a report (auto-replies, spam), a report to a forged return path, and messages
over the size limit are logged and left in the mailbox. Nothing a message holds stops the poll.

The mailbox session is synchronous (imaplib, poplib) and runs in a thread of its own; it hands
each batch's events to the event loop to record, and waits for the commit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from webapp.bounces.service import checks, mailbox, reports
from webapp.bounces.service.connection import Fetched, MailboxError, open_mailbox
from webapp.core.addresses import IPAddress
from webapp.core.db import get_sessionmaker
from webapp.core.redis import get_redis
from webapp.feedback import service as feedback
from webapp.feedback.schemas import FeedbackEvent

log = logging.getLogger("mailroom.bounces")

BATCH_SIZE = 50  # messages read, recorded and deleted together
TIME_LIMIT_SECONDS = 120.0  # no new batch is started after this; the next poll carries on
LEFT_KEY = "mailroom:bounces:pop3-left"  # POP3 ids of messages left alone: not read again
LEFT_DAYS, LEFT_MAX = 30, 10_000
LAST_POLL_KEY = "mailroom:bounces:last-poll"  # what the last poll did, for the settings page

T = TypeVar("T")


@dataclass
class PollResult:
    read: int = 0
    recorded: int = 0  # events new to feedback (a report read again counts nothing)
    left: list[str] = field(default_factory=list)  # ids of messages left in the mailbox
    error: str = ""
    paused: list[int] = field(default_factory=list)  # campaigns paused for their complaint rate


@dataclass(frozen=True)
class LastPoll:
    at: datetime
    read: int
    recorded: int
    left: int
    error: str


async def last_poll() -> LastPoll | None:
    saved = await get_redis().get(LAST_POLL_KEY)
    if not saved:
        return None
    values = json.loads(saved)
    return LastPoll(**values | {"at": datetime.fromisoformat(values["at"])})


async def _remember(result: PollResult) -> None:
    done = LastPoll(datetime.now(UTC), result.read, result.recorded, len(result.left), result.error)
    await get_redis().set(LAST_POLL_KEY, json.dumps(asdict(done) | {"at": done.at.isoformat()}))


async def poll() -> PollResult:
    """Poll the configured mailbox once (nothing when none is configured)."""
    async with get_sessionmaker()() as session:
        settings = await mailbox.load(session)
    if not settings.polled:
        return PollResult()
    try:
        address = await checks.address_of(settings)
    except checks.ConnectionFailed as exc:
        log.warning("bounce mailbox not polled: %s", exc)
        await _remember(failed := PollResult(error=str(exc)))
        return failed
    skip = set(json.loads(await get_redis().get(LEFT_KEY) or "[]")) if settings.protocol == "pop3" else set()
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    result = await asyncio.to_thread(_poll_in_thread, settings, address, skip, on_loop)
    if settings.protocol == "pop3" and result.left:
        remembered = sorted(skip | set(result.left))[-LEFT_MAX:]
        await get_redis().set(LEFT_KEY, json.dumps(remembered), ex=LEFT_DAYS * 86400)
    await _remember(result)
    return result


def _poll_in_thread(
    settings: mailbox.MailboxSettings,
    address: IPAddress,
    skip: set[str],
    on_loop: Callable[[Coroutine[Any, Any, feedback.Recorded]], feedback.Recorded],
) -> PollResult:
    result = PollResult()
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    try:
        with open_mailbox(settings, address) as opened:
            while time.monotonic() < deadline:
                batch = opened.fetch(BATCH_SIZE, skip | set(result.left))
                if not batch:
                    break
                result.read += len(batch)
                events, processed, left = _read_batch(batch)
                recorded = on_loop(_record(events))
                result.recorded += recorded.new
                result.paused += recorded.paused
                opened.finish(processed, left, delete=settings.delete_processed)
                result.left += left if settings.delete_processed else left + processed
                if len(batch) < BATCH_SIZE:
                    break
    except MailboxError as exc:
        log.warning("bounce mailbox poll stopped: %s", exc)
        result.error = str(exc)
    return result


def _read_batch(batch: list[Fetched]) -> tuple[list[FeedbackEvent], list[str], list[str]]:
    """The batch's events, the ids of the messages they came from, and the ids of the others."""
    events: list[FeedbackEvent] = []
    processed: list[str] = []
    left: list[str] = []
    for message in batch:
        found = _read_one(message)
        if found:
            events += found
            processed.append(message.id)
        else:
            left.append(message.id)
    return events, processed, left


def _read_one(message: Fetched) -> list[FeedbackEvent]:
    if message.raw is None:
        log.warning("bounce mailbox message %s is over the size limit; left in the mailbox", message.id)
        return []
    try:
        events = reports.read(message.raw)
    except reports.Forged as exc:
        log.warning("bounce mailbox message %s went to a forged return path (%s); ignored", message.id, exc)
        return []
    except Exception:  # a message that breaks the parser must not stop the poll
        log.exception("bounce mailbox message %s could not be read; left in the mailbox", message.id)
        return []
    if not events:
        log.info("bounce mailbox message %s is no bounce or complaint report; left in the mailbox", message.id)
    return events


async def _record(events: list[FeedbackEvent]) -> feedback.Recorded:
    if not events:
        return feedback.Recorded()
    async with get_sessionmaker()() as session:
        recorded = await feedback.record(session, events)
        await session.commit()
    return recorded
