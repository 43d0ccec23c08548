"""The event worker's SQL: one batch of tracking hits applied set-based, whatever its size.

Counters are derived only from the events this batch actually inserted (ON CONFLICT on the event
key does nothing for an event stored before), so a batch applied again after a crash counts
nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Batches applied side by side (several workers) may share deliveries: each takes their rows in id
# order first, so the next statement sees every earlier batch's first open and click, and two
# batches never wait on each other in a circle over deliveries.
LOCK_DELIVERIES = text("SELECT id FROM deliveries WHERE id = ANY(:ids) ORDER BY id FOR UPDATE")

# One statement: every CTE sees the deliveries as they were before it (the snapshot), which is how
# `changes` knows a delivery's first open and first click of all time. A delivery is opened by an
# open or a click (a click proves an open even when images were blocked); only sent deliveries move,
# and their status only forwards. Each campaign and each contact is updated once per batch.
APPLY = text("""
WITH batch AS (
  SELECT * FROM unnest(CAST(:keys AS uuid[]), CAST(:kinds AS text[]), CAST(:deliveries AS bigint[]),
                       CAST(:links AS bigint[]), CAST(:ats AS timestamptz[]), CAST(:agents AS text[]),
                       CAST(:clients AS text[]), CAST(:devices AS text[]), CAST(:machine_agents AS boolean[]))
    AS b(event_key, kind, delivery_id, link_id, at, user_agent, client, device, machine_agent)
), burst AS (
  SELECT DISTINCT a.event_key FROM batch a
  JOIN batch o ON o.delivery_id = a.delivery_id AND o.kind = 'click' AND o.link_id IS DISTINCT FROM a.link_id
              AND o.at BETWEEN a.at - :burst * interval '1 second' AND a.at + :burst * interval '1 second'
  WHERE a.kind = 'click'
), inserted AS (
  INSERT INTO email_events (event_key, delivery_id, campaign_id, contact_id, kind, link_id, at, user_agent,
                            client, device, machine)
  SELECT b.event_key, d.id, d.campaign_id, d.contact_id, b.kind, l.id, b.at, b.user_agent, b.client, b.device,
         b.machine_agent
         OR coalesce(b.at < d.sent_at + CASE WHEN b.kind = 'open' THEN :open_prefetch ELSE :scanner_click END
                                 * interval '1 second', false)
         OR (b.kind = 'click' AND (b.event_key IN (SELECT event_key FROM burst) OR EXISTS (
               SELECT 1 FROM email_events o
               WHERE o.contact_id = d.contact_id AND o.delivery_id = d.id AND o.kind = 'click'
                 AND o.link_id IS DISTINCT FROM l.id
                 AND o.at BETWEEN b.at - :burst * interval '1 second' AND b.at + :burst * interval '1 second')))
  FROM batch b
  JOIN deliveries d ON d.id = b.delivery_id
  LEFT JOIN links l ON l.id = b.link_id AND l.campaign_id = d.campaign_id
  ON CONFLICT (event_key, at) DO NOTHING
  RETURNING id, delivery_id, contact_id, kind, at
), per_delivery AS (
  SELECT delivery_id, min(at) AS first_at, min(at) FILTER (WHERE kind = 'click') AS first_click_at
  FROM inserted GROUP BY delivery_id
), changes AS (
  SELECT p.delivery_id, p.first_at, p.first_click_at, d.campaign_id, d.contact_id,
         d.opened_at IS NULL AS opens, d.clicked_at IS NULL AND p.first_click_at IS NOT NULL AS clicks
  FROM per_delivery p JOIN deliveries d ON d.id = p.delivery_id
  WHERE d.sent_at IS NOT NULL AND (d.opened_at IS NULL OR (d.clicked_at IS NULL AND p.first_click_at IS NOT NULL))
), firsts AS (
  UPDATE deliveries d
  SET opened_at = CASE WHEN c.opens THEN c.first_at ELSE d.opened_at END,
      clicked_at = CASE WHEN c.clicks THEN c.first_click_at ELSE d.clicked_at END,
      status = CASE WHEN c.clicks AND d.status IN ('sent', 'delivered', 'opened') THEN 'clicked'
                    WHEN d.status IN ('sent', 'delivered') THEN 'opened' ELSE d.status END,
      updated_at = now()
  FROM changes c WHERE d.id = c.delivery_id
), per_campaign AS (
  SELECT campaign_id, count(*) FILTER (WHERE opens) AS opens, count(*) FILTER (WHERE clicks) AS clicks
  FROM changes GROUP BY campaign_id
), campaign_counts AS (
  UPDATE campaigns c SET opened_count = c.opened_count + p.opens, clicked_count = c.clicked_count + p.clicks
  FROM per_campaign p WHERE c.id = p.campaign_id
), firsts_per_contact AS (
  SELECT contact_id, count(*) FILTER (WHERE opens) AS opens, count(*) FILTER (WHERE clicks) AS clicks
  FROM changes GROUP BY contact_id
), per_contact AS (
  SELECT contact_id, max(at) AS last_open,  -- a click is an open too, as for the delivery
         max(at) FILTER (WHERE kind = 'click') AS last_click
  FROM inserted WHERE contact_id IS NOT NULL GROUP BY contact_id
), contact_stats AS (
  UPDATE contacts c
  SET emails_opened = c.emails_opened + coalesce(f.opens, 0), emails_clicked = c.emails_clicked + coalesce(f.clicks, 0),
      last_opened = greatest(c.last_opened, p.last_open), last_clicked = greatest(c.last_clicked, p.last_click)
  FROM per_contact p LEFT JOIN firsts_per_contact f ON f.contact_id = p.contact_id
  WHERE c.id = p.contact_id
)
SELECT coalesce(array_agg(id), '{}') FROM inserted
""")


@dataclass(frozen=True)
class Hits:
    """A batch of tracking hits, one list entry per hit; client, device and machine_agent say what
    the hit's user agent is (analytics.service.classify)."""

    keys: Sequence[UUID]
    kinds: Sequence[str]
    deliveries: Sequence[int]
    links: Sequence[int | None]
    ats: Sequence[datetime]
    agents: Sequence[str]
    clients: Sequence[str]
    devices: Sequence[str]
    machine_agents: Sequence[bool]


@dataclass(frozen=True)
class MachineWindows:
    """Seconds that make a hit a machine's: an open this soon after sending (a prefetch), a click this
    soon after sending, or this close to a click on another link of the same message (a scanner)."""

    open_prefetch: int
    scanner_click: int
    burst: int


async def apply_hits(session: AsyncSession, hits: Hits, windows: MachineWindows) -> list[int]:
    """Store the hits not stored before and move what they move; the ids of the new event rows."""
    await session.execute(LOCK_DELIVERIES, {"ids": sorted(set(hits.deliveries))})
    values = {**vars(hits), **vars(windows)}
    inserted: list[int] = await session.scalar(APPLY, values) or []
    return inserted


# Human opens and clicks among events just stored (machine opens and scanner clicks left out), with
# each click's link: what automations triggered by opens and clicks take (automations.service.triggers).
HUMAN_ENGAGEMENT = text("""
SELECT e.kind, e.campaign_id, l.url, array_agg(DISTINCT e.contact_id ORDER BY e.contact_id) AS contact_ids
FROM email_events e LEFT JOIN links l ON l.id = e.link_id
WHERE e.id = ANY(CAST(:ids AS bigint[])) AND e.at BETWEEN :first AND :last
  AND e.kind IN ('open', 'click') AND NOT e.machine AND e.contact_id IS NOT NULL
GROUP BY e.kind, e.campaign_id, l.url
ORDER BY e.kind, e.campaign_id, l.url
""")


@dataclass(frozen=True)
class Engaged:
    kind: str  # 'open' or 'click'
    campaign_id: int | None
    url: str | None  # a click's link
    contact_ids: list[int]


async def human_engagement(
    session: AsyncSession, event_ids: Sequence[int], first: datetime, last: datetime
) -> list[Engaged]:
    """The contacts who opened or clicked, by kind, campaign and link, among these events (made
    between first and last)."""
    if not event_ids:
        return []
    rows = await session.execute(HUMAN_ENGAGEMENT, {"ids": list(event_ids), "first": first, "last": last})
    return [Engaged(*row) for row in rows]
