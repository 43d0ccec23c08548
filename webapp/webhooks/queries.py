"""All of the webhooks feature's SQL: endpoints, the outbox of deliveries (written set-based in the
caller's transaction), claiming due deliveries, and recording what the receivers answered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import rows_changed
from webapp.webhooks.models import WebhookDelivery, WebhookEndpoint


async def endpoints(session: AsyncSession) -> list[WebhookEndpoint]:
    return list(await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


async def deliveries(session: AsyncSession, endpoint_id: int, limit: int) -> list[WebhookDelivery]:
    """The endpoint's log, newest first."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


# One row per event per active endpoint that subscribed to its type, in a single statement whatever
# the number of events: a batch of sends costs one round trip, and nothing when nobody listens.
ENQUEUE = text("""
INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, data)
SELECT e.id, CAST(event.id AS uuid), CAST(:event_type AS text), event.data
FROM webhook_endpoints e
CROSS JOIN unnest(CAST(:ids AS text[]), CAST(:data AS jsonb[])) AS event (id, data)
WHERE e.is_active AND CAST(:event_type AS text) = ANY(e.event_types)
""")


SUBSCRIBED = text("""
SELECT DISTINCT t FROM webhook_endpoints e, unnest(e.event_types) AS t
WHERE e.is_active AND t = ANY(CAST(:types AS text[]))
""")


async def subscribed(session: AsyncSession, event_types: Sequence[str]) -> set[str]:
    return set(await session.scalars(SUBSCRIBED, {"types": list(event_types)}))


async def enqueue(session: AsyncSession, event_type: str, events: Sequence[tuple[uuid.UUID, str]]) -> None:
    """events: (event id, data as JSON text)."""
    await session.execute(
        ENQUEUE,
        {"event_type": event_type, "ids": [str(i) for i, _ in events], "data": [data for _, data in events]},
    )


ENQUEUE_TO = text("""
INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, data)
SELECT e.id, CAST(event.id AS uuid), CAST(:event_type AS text), event.data
FROM webhook_endpoints e
CROSS JOIN unnest(CAST(:ids AS text[]), CAST(:data AS jsonb[])) AS event (id, data)
WHERE e.id = :endpoint_id AND e.is_active
""")


async def enqueue_to(
    session: AsyncSession, endpoint_id: int, event_type: str, events: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Events for one endpoint whatever it subscribed to (it was named), if it is active."""
    await session.execute(
        ENQUEUE_TO,
        {
            "endpoint_id": endpoint_id,
            "event_type": event_type,
            "ids": [str(i) for i, _ in events],
            "data": [data for _, data in events],
        },
    )


REPLAY = text("""
INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, data, occurred_at, replay_of)
SELECT endpoint_id, event_id, event_type, data, occurred_at, id FROM webhook_deliveries
WHERE id = :delivery_id AND endpoint_id = :endpoint_id
RETURNING id
""")


async def replay(session: AsyncSession, endpoint_id: int, delivery_id: int) -> int | None:
    """A new pending delivery of the same event (same id, so receivers can de-duplicate)."""
    new_id: int | None = await session.scalar(REPLAY, {"endpoint_id": endpoint_id, "delivery_id": delivery_id})
    return new_id


@dataclass(frozen=True)
class Due:
    id: int
    endpoint_id: int
    event_id: uuid.UUID
    event_type: str
    data: dict[str, Any]
    occurred_at: datetime
    created_at: datetime
    attempts: int  # including this one
    url: str
    secret_encrypted: bytes
    previous_secret_encrypted: bytes | None  # while a rotation's overlap lasts
    allow_private: bool


# The claim pushes next_attempt_at forward by a lease: a worker that dies mid-request leaves rows
# that come due again by themselves. SKIP LOCKED lets several workers claim side by side.
CLAIM = text("""
UPDATE webhook_deliveries d
SET next_attempt_at = now() + make_interval(secs => :lease_seconds), attempts = d.attempts + 1
FROM (
  SELECT w.id FROM webhook_deliveries w JOIN webhook_endpoints e ON e.id = w.endpoint_id
  WHERE w.status = 'pending' AND w.next_attempt_at <= now() AND e.is_active
  ORDER BY w.next_attempt_at LIMIT :limit FOR UPDATE OF w SKIP LOCKED
) due, webhook_endpoints e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.event_id, d.event_type, d.data, d.occurred_at, d.created_at, d.attempts,
          e.url, e.secret_encrypted,
          CASE WHEN e.previous_secret_until > now() THEN e.previous_secret_encrypted END, e.allow_private
""")


async def claim_due(session: AsyncSession, limit: int, lease_seconds: int) -> list[Due]:
    result = await session.execute(CLAIM, {"limit": limit, "lease_seconds": lease_seconds})
    return [Due(*row) for row in result.all()]


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    endpoint_id: int
    ok: bool
    response_code: int | None
    duration_ms: int
    response_body: str
    error: str
    retry_seconds: int | None  # None: give up (failed for good) or succeeded


# Outcomes of a batch in one statement.
RECORD = text("""
UPDATE webhook_deliveries d
SET status = CASE WHEN a.ok THEN 'succeeded' WHEN a.retry_seconds IS NULL THEN 'failed' ELSE 'pending' END,
    next_attempt_at = CASE WHEN a.retry_seconds IS NULL THEN d.next_attempt_at
                           ELSE now() + make_interval(secs => a.retry_seconds) END,
    last_attempt_at = now(), response_code = a.code, duration_ms = a.duration, response_body = a.body,
    error = a.error
FROM unnest(CAST(:ids AS bigint[]), CAST(:ok AS boolean[]), CAST(:codes AS integer[]),
            CAST(:durations AS integer[]), CAST(:bodies AS text[]), CAST(:errors AS text[]),
            CAST(:retry AS integer[])) AS a (id, ok, code, duration, body, error, retry_seconds)
WHERE d.id = a.id
""")

# Per endpoint of the batch: `failures` attempts failed since its last success in the batch
# (`succeeded`: whether there was one). An endpoint failing N times in a row, or failing without a
# success for a day, is switched off with the reason shown to admins.
ENDPOINT_HEALTH = text("""
UPDATE webhook_endpoints e
SET consecutive_failures = CASE WHEN h.succeeded THEN h.failures ELSE e.consecutive_failures + h.failures END,
    failing_since = CASE WHEN h.failures = 0 THEN NULL
                         WHEN h.succeeded THEN now() ELSE coalesce(e.failing_since, now()) END
FROM unnest(CAST(:ids AS bigint[]), CAST(:succeeded AS boolean[]), CAST(:failures AS integer[]))
     AS h (id, succeeded, failures)
WHERE e.id = h.id
""")

DISABLE_FAILING = text("""
UPDATE webhook_endpoints
SET is_active = false, disabled_at = now(),
    disabled_reason = CASE WHEN consecutive_failures >= :max_failures
                           THEN consecutive_failures || ' deliveries in a row failed'
                           ELSE 'every delivery failed for ' || :max_hours || ' hours' END
WHERE id = ANY(CAST(:ids AS bigint[])) AND is_active
  AND (consecutive_failures >= :max_failures OR failing_since <= now() - make_interval(hours => :max_hours))
RETURNING id
""")


async def record(session: AsyncSession, attempts: Sequence[Attempt], *, max_failures: int, max_hours: int) -> list[int]:
    """Store the outcomes and each endpoint's health; returns the endpoints switched off."""
    await session.execute(
        RECORD,
        {
            "ids": [a.delivery_id for a in attempts],
            "ok": [a.ok for a in attempts],
            "codes": [a.response_code for a in attempts],
            "durations": [a.duration_ms for a in attempts],
            "bodies": [a.response_body for a in attempts],
            "errors": [a.error for a in attempts],
            "retry": [a.retry_seconds for a in attempts],
        },
    )
    health: dict[int, tuple[bool, int]] = {}
    for a in attempts:  # in the order they were claimed
        succeeded, failures = health.get(a.endpoint_id, (False, 0))
        health[a.endpoint_id] = (True, 0) if a.ok else (succeeded, failures + 1)
    await session.execute(
        ENDPOINT_HEALTH,
        {
            "ids": list(health),
            "succeeded": [s for s, _ in health.values()],
            "failures": [f for _, f in health.values()],
        },
    )
    result = await session.execute(
        DISABLE_FAILING, {"ids": list(health), "max_failures": max_failures, "max_hours": max_hours}
    )
    return list(result.scalars())


async def any_due(session: AsyncSession) -> bool:
    """Uses ix_webhook_deliveries_due."""
    due = text("""SELECT EXISTS (SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                  WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.is_active)""")
    return bool(await session.scalar(due))


# Oldest first, a bounded number at a time, so one run never holds a long transaction.
PRUNE = text("""
DELETE FROM webhook_deliveries WHERE id IN (
  SELECT id FROM webhook_deliveries
  WHERE created_at < now() - make_interval(days => :days) AND status <> 'pending'
  ORDER BY created_at LIMIT :limit
)
""")


async def prune(session: AsyncSession, days: int, limit: int) -> int:
    """Delete finished deliveries older than `days`; how many went."""
    return rows_changed(await session.execute(PRUNE, {"days": days, "limit": limit}))
