"""Opens and clicks, from the moment a mail client makes them to the tables.

The web process checks the token, appends the hit to a Redis stream (`record`) and answers; the
event worker reads the stream in a consumer group and applies a batch in one transaction
(`apply`), then acknowledges it. Delivery is at-least-once: a worker killed between the commit and
the acknowledgement leaves its entries pending, and another worker claims them once they have been
idle for MAILROOM_EVENTS_CLAIM_IDLE_SECONDS (XAUTOCLAIM) and applies them again. Each hit carries a
key and the time it happened, both made once in the web process and carried in the stream; the
pair is unique in email_events (partitioned by that time), so applying it again changes nothing.

The stream is never trimmed by length on XADD (MAXLEN would drop entries no worker has applied
yet). The worker trims it after acknowledging, up to the oldest entry some consumer group has not
acknowledged (XTRIM MINID), so every group that reads the stream (the event worker's, and later
outbound webhooks') sees every entry. If the worker is down, the stream grows; Redis's maxmemory
(with the noeviction policy) then refuses XADD, and the hit is written synchronously instead, as
when Redis is down or slower than BUFFER_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from webapp.analytics import service as analytics
from webapp.automations.service import triggers
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.scoring import service as scoring
from webapp.tracking.queries import events as queries

log = logging.getLogger("mailroom.tracking")
ENGAGEMENT_TRIGGERS = ("email_opened", "link_clicked")

MACHINE_WINDOWS = queries.MachineWindows(
    open_prefetch=analytics.OPEN_PREFETCH_SECONDS,
    scanner_click=analytics.SCANNER_CLICK_SECONDS,
    burst=analytics.BURST_SECONDS,
)

STREAM = "mailroom:events"
GROUP = "event-worker"  # the consumer group of the event worker; other readers make groups of their own
USER_AGENT_MAX_LENGTH = 500
BUFFER_TIMEOUT_SECONDS = 1.0  # an XADD takes well under a millisecond; a Redis this slow is as good as down


@dataclass(frozen=True)
class Hit:
    key: UUID
    kind: str  # "open" or "click"
    delivery_id: int
    link_id: int | None
    at_ms: int
    user_agent: str

    def fields(self) -> dict[str, str]:
        link = "" if self.link_id is None else str(self.link_id)
        delivery, at = str(self.delivery_id), str(self.at_ms)
        return {"k": str(self.key), "e": self.kind, "d": delivery, "l": link, "t": at, "ua": self.user_agent}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> Hit:
        link = fields[b"l"].decode()
        return cls(
            UUID(fields[b"k"].decode()),
            fields[b"e"].decode(),
            int(fields[b"d"]),
            int(link) if link else None,
            int(fields[b"t"]),
            fields[b"ua"].decode(errors="replace"),
        )


def new_hit(kind: str, delivery_id: int, link_id: int | None, user_agent: str) -> Hit:
    """A hit with its key: 48 bits of milliseconds then 80 random bits, so keys arrive in about
    increasing order and the unique index grows at its right edge instead of everywhere."""
    at_ms = time.time_ns() // 1_000_000
    key = UUID(int=(at_ms << 80) | secrets.randbits(80))
    return Hit(key, kind, delivery_id, link_id, at_ms, user_agent[:USER_AGENT_MAX_LENGTH])


async def record(redis: Redis, hit: Hit) -> None:
    """Hand the hit to the stream; if Redis cannot take it, or does not answer in time, write it
    now (the old, slower way) so no hit is lost while PostgreSQL is up. Should the XADD have
    succeeded after all, the worker finds the hit's key stored and skips it."""
    try:
        async with asyncio.timeout(BUFFER_TIMEOUT_SECONDS):
            await redis.xadd(STREAM, hit.fields())  # type: ignore[arg-type]
    except (RedisError, TimeoutError):
        log.warning("event stream unavailable; writing a %s directly", hit.kind, exc_info=True)
        async with get_sessionmaker()() as session, session.begin():
            await apply(session, [hit])


async def apply(session: AsyncSession, hits: Sequence[Hit]) -> int:
    """Store the hits not stored before, move what they move and roll them up; how many were new."""
    if not hits:
        return 0
    agents = [analytics.classify(hit.user_agent) for hit in hits]
    batch = queries.Hits(
        keys=[hit.key for hit in hits],
        kinds=[hit.kind for hit in hits],
        deliveries=[hit.delivery_id for hit in hits],
        links=[hit.link_id for hit in hits],
        ats=[datetime.fromtimestamp(hit.at_ms / 1000, UTC) for hit in hits],
        agents=[hit.user_agent for hit in hits],
        clients=[agent.client for agent in agents],
        devices=[agent.device for agent in agents],
        machine_agents=[agent.machine for agent in agents],
    )
    inserted = await queries.apply_hits(session, batch, MACHINE_WINDOWS)
    between = (min(batch.ats), max(batch.ats))
    await analytics.roll_up_events(session, inserted, between=between)
    await _signal_automations(session, inserted, between)
    await scoring.score_email_events(session, inserted, between)
    return len(inserted)


async def _signal_automations(
    session: AsyncSession, event_ids: Sequence[int], between: tuple[datetime, datetime]
) -> None:
    """Automations triggered by an open or a click take the contacts who made one (humans only); a
    click opens its message too, as the counts have it. Nothing is read when no automation listens."""
    wanted = await triggers.listening(session, ENGAGEMENT_TRIGGERS)
    if not wanted:
        return
    for engaged in await queries.human_engagement(session, event_ids, *between):
        campaign_id = engaged.campaign_id
        if "email_opened" in wanted:
            await triggers.signal(session, "email_opened", engaged.contact_ids, campaign_id=campaign_id)
        if engaged.kind == "click" and "link_clicked" in wanted:
            await triggers.signal(
                session, "link_clicked", engaged.contact_ids, campaign_id=campaign_id, url=engaged.url
            )


async def ensure_group(redis: Redis) -> None:
    """The worker's consumer group, reading from the stream's first entry (hits buffered before any
    worker ever ran are applied too)."""
    try:
        await redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


async def forget_idle_consumers(redis: Redis, idle_ms: int) -> None:
    """Drop the names of consumers (worker processes, one name each) idle this long with nothing
    pending: every restarted process leaves one behind. One with pending entries stays until they
    are claimed."""
    for consumer in await redis.xinfo_consumers(STREAM, GROUP):
        if consumer["pending"] == 0 and consumer["idle"] >= idle_ms:
            await redis.xgroup_delconsumer(STREAM, GROUP, consumer["name"])


Entries = list[tuple[bytes, Hit]]


def _entries(raw: Sequence[tuple[bytes, dict[bytes, bytes] | None]]) -> Entries:
    return [(entry_id, Hit.from_fields(fields)) for entry_id, fields in raw if fields]


async def take(redis: Redis, consumer: str, block_ms: int | None) -> Entries:
    """The next batch for this consumer: entries another consumer left unacknowledged for too long
    first, else new ones (waiting up to block_ms for some, or not at all with None)."""
    settings = get_settings().events
    idle_ms = int(settings.claim_idle_seconds * 1000)
    try:
        claimed = await redis.xautoclaim(STREAM, GROUP, consumer, idle_ms, "0-0", count=settings.batch_size)
        if stale := _entries(claimed[1]):
            return stale
        read = await redis.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=settings.batch_size, block=block_ms)
    except ResponseError as error:
        if "NOGROUP" not in str(error):
            raise
        await ensure_group(redis)  # the stream or group was deleted (a Redis without persistence restarted)
        return []
    return _entries(read[0][1]) if read else []


async def done(redis: Redis, entry_ids: Sequence[bytes]) -> None:
    """Acknowledge applied entries, and drop what every consumer group has acknowledged."""
    await redis.xack(STREAM, GROUP, *entry_ids)
    groups = await redis.xinfo_groups(STREAM)
    keep_from = []
    for group in groups:
        pending = await redis.xpending(STREAM, group["name"])
        keep_from.append(pending["min"] if pending["pending"] else _after(group["last-delivered-id"]))
    if keep_from:
        await redis.xtrim(STREAM, minid=min(keep_from, key=_entry_order), approximate=False)


def _entry_order(entry_id: bytes | str) -> tuple[int, int]:
    raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = raw.partition("-")
    return int(ms), int(seq or 0)


def _after(entry_id: bytes | str) -> str:
    """The smallest id after this one: entries before it are all read and acknowledged."""
    ms, seq = _entry_order(entry_id)
    return f"{ms}-{seq + 1}"


async def apply_next(
    redis: Redis, sessions: async_sessionmaker[AsyncSession], consumer: str, block_ms: int | None
) -> int:
    """Take a batch, apply it in one transaction, acknowledge it; how many entries it held."""
    entries = await take(redis, consumer, block_ms)
    if not entries:
        return 0
    async with sessions() as session, session.begin():
        await apply(session, [hit for _, hit in entries])
    await done(redis, [entry_id for entry_id, _ in entries])
    return len(entries)
