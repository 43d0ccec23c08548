"""Keeping the rollups, set-based: one statement for a set of stored events, one for a set of sent
deliveries, whatever their number. The same statements, over every event and delivery, rebuild the
rollups from scratch (migration of existing data, the benchmark).

The caller passes only events it has just inserted (ON CONFLICT ... DO NOTHING ... RETURNING), in
the transaction that inserted them, so an event applied twice is rolled up once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ROLLUP_TABLES = (
    "analytics_campaign_hourly",
    "analytics_link_clicks",
    "analytics_campaign_clients",
    "analytics_campaign_domains",
    "analytics_audience_daily",
    "analytics_engagement_firsts",
)

# {events}: which email_events rows to roll up. A bounce is soft when its detail says so ("soft..."),
# hard otherwise (an SMTP 5xx, a provider's permanent bounce). `firsts` inserts each delivery's first
# open, human open, click, human click and click per link not seen before, and its first delivery
# report, hard and soft bounce, complaint and unsubscribe; an event is a first when its candidate row
# went in. Opens and clicks are counted as events and as firsts; what happens to a message once (it
# was delivered, bounced, complained of) is counted once, however many reports of it come, from one
# provider or several. Upserts run in key order so concurrent batches never deadlock.
EVENTS = """
WITH ev AS (
  SELECT e.id, e.campaign_id, e.delivery_id, e.link_id, e.kind, e.at, e.machine, e.client, e.device,
         e.kind = 'bounce' AND e.detail ILIKE 'soft%' AS soft, date_trunc('hour', e.at) AS hour,
         lower(split_part(d.email, '@', 2)) AS domain
  FROM email_events e JOIN deliveries d ON d.id = e.delivery_id
  WHERE {events}
), candidates AS (
  SELECT DISTINCT ON (delivery_id, what, link_id) id, delivery_id, what, link_id
  FROM (
    SELECT id, delivery_id, at, 'opened' AS what, 0::bigint AS link_id FROM ev WHERE kind IN ('open', 'click')
    UNION ALL SELECT id, delivery_id, at, 'human_opened', 0 FROM ev WHERE kind IN ('open', 'click') AND NOT machine
    UNION ALL SELECT id, delivery_id, at, 'clicked', 0 FROM ev WHERE kind = 'click'
    UNION ALL SELECT id, delivery_id, at, 'human_clicked', 0 FROM ev WHERE kind = 'click' AND NOT machine
    UNION ALL SELECT id, delivery_id, at, 'link', link_id FROM ev WHERE kind = 'click' AND link_id IS NOT NULL
    UNION ALL SELECT id, delivery_id, at, 'delivered', 0 FROM ev WHERE kind = 'delivered'
    UNION ALL SELECT id, delivery_id, at, 'bounced', 0 FROM ev WHERE kind = 'bounce'
    UNION ALL SELECT id, delivery_id, at, 'hard_bounced', 0 FROM ev WHERE kind = 'bounce' AND NOT soft
    UNION ALL SELECT id, delivery_id, at, 'soft_bounced', 0 FROM ev WHERE soft
    UNION ALL SELECT id, delivery_id, at, 'complained', 0 FROM ev WHERE kind = 'complaint'
    UNION ALL SELECT id, delivery_id, at, 'unsubscribed', 0 FROM ev WHERE kind = 'unsubscribe'
  ) c
  ORDER BY delivery_id, what, link_id, at, id
), firsts AS (
  INSERT INTO analytics_engagement_firsts (delivery_id, what, link_id)
  SELECT delivery_id, what, link_id FROM candidates ORDER BY delivery_id, what, link_id
  ON CONFLICT DO NOTHING
  RETURNING delivery_id, what, link_id
), marks AS (
  SELECT c.id, bool_or(c.what = 'opened') AS u_open, bool_or(c.what = 'human_opened') AS h_open,
         bool_or(c.what = 'clicked') AS u_click, bool_or(c.what = 'human_clicked') AS h_click,
         bool_or(c.what = 'link') AS u_link, bool_or(c.what = 'delivered') AS u_delivered,
         bool_or(c.what = 'bounced') AS u_bounce, bool_or(c.what = 'hard_bounced') AS u_hard,
         bool_or(c.what = 'soft_bounced') AS u_soft,
         bool_or(c.what = 'complained') AS u_complaint, bool_or(c.what = 'unsubscribed') AS u_unsubscribe
  FROM candidates c JOIN firsts f USING (delivery_id, what, link_id)
  GROUP BY c.id
), rows AS (
  SELECT ev.*, coalesce(m.u_open, false) AS u_open, coalesce(m.h_open, false) AS h_open,
         coalesce(m.u_click, false) AS u_click, coalesce(m.h_click, false) AS h_click,
         coalesce(m.u_link, false) AS u_link, coalesce(m.u_delivered, false) AS u_delivered,
         coalesce(m.u_bounce, false) AS u_bounce, coalesce(m.u_hard, false) AS u_hard,
         coalesce(m.u_soft, false) AS u_soft,
         coalesce(m.u_complaint, false) AS u_complaint, coalesce(m.u_unsubscribe, false) AS u_unsubscribe
  FROM ev LEFT JOIN marks m USING (id)
), hourly AS (
  INSERT INTO analytics_campaign_hourly AS t (campaign_id, hour, delivered, opens, unique_opens,
    human_unique_opens, machine_opens, clicks, unique_clicks, human_unique_clicks, scanner_clicks,
    hard_bounces, soft_bounces, complaints, unsubscribes)
  SELECT campaign_id, hour, count(*) FILTER (WHERE u_delivered), count(*) FILTER (WHERE kind = 'open'),
         count(*) FILTER (WHERE u_open), count(*) FILTER (WHERE h_open),
         count(*) FILTER (WHERE kind = 'open' AND machine), count(*) FILTER (WHERE kind = 'click'),
         count(*) FILTER (WHERE u_click), count(*) FILTER (WHERE h_click),
         count(*) FILTER (WHERE kind = 'click' AND machine), count(*) FILTER (WHERE u_hard),
         count(*) FILTER (WHERE u_soft), count(*) FILTER (WHERE u_complaint), count(*) FILTER (WHERE u_unsubscribe)
  FROM rows WHERE campaign_id IS NOT NULL GROUP BY campaign_id, hour ORDER BY campaign_id, hour
  ON CONFLICT (campaign_id, hour) DO UPDATE SET
    delivered = t.delivered + EXCLUDED.delivered, opens = t.opens + EXCLUDED.opens,
    unique_opens = t.unique_opens + EXCLUDED.unique_opens,
    human_unique_opens = t.human_unique_opens + EXCLUDED.human_unique_opens,
    machine_opens = t.machine_opens + EXCLUDED.machine_opens, clicks = t.clicks + EXCLUDED.clicks,
    unique_clicks = t.unique_clicks + EXCLUDED.unique_clicks,
    human_unique_clicks = t.human_unique_clicks + EXCLUDED.human_unique_clicks,
    scanner_clicks = t.scanner_clicks + EXCLUDED.scanner_clicks, hard_bounces = t.hard_bounces + EXCLUDED.hard_bounces,
    soft_bounces = t.soft_bounces + EXCLUDED.soft_bounces, complaints = t.complaints + EXCLUDED.complaints,
    unsubscribes = t.unsubscribes + EXCLUDED.unsubscribes
), links AS (
  INSERT INTO analytics_link_clicks AS t (link_id, campaign_id, clicks, unique_clicks, human_clicks)
  SELECT link_id, min(campaign_id), count(*), count(*) FILTER (WHERE u_link), count(*) FILTER (WHERE NOT machine)
  FROM rows WHERE kind = 'click' AND link_id IS NOT NULL AND campaign_id IS NOT NULL
  GROUP BY link_id ORDER BY link_id
  ON CONFLICT (link_id) DO UPDATE SET clicks = t.clicks + EXCLUDED.clicks,
    unique_clicks = t.unique_clicks + EXCLUDED.unique_clicks, human_clicks = t.human_clicks + EXCLUDED.human_clicks
), clients AS (
  INSERT INTO analytics_campaign_clients AS t (campaign_id, client, device, opens, unique_opens, human_unique_opens)
  SELECT campaign_id, client, device, count(*), count(*) FILTER (WHERE u_open), count(*) FILTER (WHERE h_open)
  FROM rows WHERE kind = 'open' AND campaign_id IS NOT NULL
  GROUP BY campaign_id, client, device ORDER BY campaign_id, client, device
  ON CONFLICT (campaign_id, client, device) DO UPDATE SET opens = t.opens + EXCLUDED.opens,
    unique_opens = t.unique_opens + EXCLUDED.unique_opens,
    human_unique_opens = t.human_unique_opens + EXCLUDED.human_unique_opens
), domains AS (
  INSERT INTO analytics_campaign_domains AS t
    (campaign_id, domain, opened, human_opened, clicked, human_clicked, bounced, complained)
  SELECT campaign_id, domain, count(*) FILTER (WHERE u_open), count(*) FILTER (WHERE h_open),
         count(*) FILTER (WHERE u_click), count(*) FILTER (WHERE h_click), count(*) FILTER (WHERE u_bounce),
         count(*) FILTER (WHERE u_complaint)
  FROM rows WHERE kind IN ('open', 'click', 'bounce', 'complaint') AND campaign_id IS NOT NULL
  GROUP BY campaign_id, domain ORDER BY campaign_id, domain
  ON CONFLICT (campaign_id, domain) DO UPDATE SET opened = t.opened + EXCLUDED.opened,
    human_opened = t.human_opened + EXCLUDED.human_opened, clicked = t.clicked + EXCLUDED.clicked,
    human_clicked = t.human_clicked + EXCLUDED.human_clicked,
    bounced = t.bounced + EXCLUDED.bounced, complained = t.complained + EXCLUDED.complained
)
SELECT coalesce(array_agg(id) FILTER (WHERE u_open OR h_open), '{{}}') AS opened,
       coalesce(array_agg(id) FILTER (WHERE kind = 'click'), '{{}}') AS clicked
FROM rows
"""

# {deliveries}: which sent deliveries to count (once each: the send pipeline passes a row only when
# it has just become sent).
SENDS = """
WITH d AS (
  SELECT campaign_id, date_trunc('hour', sent_at) AS hour, lower(split_part(email, '@', 2)) AS domain
  FROM deliveries WHERE sent_at IS NOT NULL AND {deliveries}
), hourly AS (
  INSERT INTO analytics_campaign_hourly AS t (campaign_id, hour, sent)
  SELECT campaign_id, hour, count(*) FROM d GROUP BY campaign_id, hour ORDER BY campaign_id, hour
  ON CONFLICT (campaign_id, hour) DO UPDATE SET sent = t.sent + EXCLUDED.sent
)
INSERT INTO analytics_campaign_domains AS t (campaign_id, domain, sent)
SELECT campaign_id, domain, count(*) FROM d GROUP BY campaign_id, domain ORDER BY campaign_id, domain
ON CONFLICT (campaign_id, domain) DO UPDATE SET sent = t.sent + EXCLUDED.sent
"""

# The time bounds let PostgreSQL look in the partitions of those months only.
ROLL_UP_EVENTS = text(EVENTS.format(events="e.id = ANY(CAST(:ids AS bigint[])) AND e.at BETWEEN :first AND :last"))
ROLL_UP_SENDS = text(SENDS.format(deliveries="id = ANY(CAST(:ids AS bigint[]))"))
REBUILD_EVENTS = text(EVENTS.format(events="true"))
REBUILD_SENDS = text(SENDS.format(deliveries="true"))

# The audience per day, recounted for the days asked from the one record each change leaves whatever
# door it came through: contacts.date_added for those added (sign-up, import, the API, the staff
# form), the suppression list for opt-outs (message links, one-click, the preference centre, provider
# reports, staff; complaints count as opt-outs) and hard bounces (SMTP or reported). A subscriber who
# confirms again leaves the list, and a recount of that day no longer counts the opt-out.
AUDIENCE = text("""
WITH days AS (
  SELECT day::date, day AT TIME ZONE 'UTC' AS since, (day + interval '1 day') AT TIME ZONE 'UTC' AS until
  FROM generate_series(CAST(:since AS date), (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS g(day)
)
INSERT INTO analytics_audience_daily AS t (day, subscribed, unsubscribed, bounced)
SELECT d.day,
       (SELECT count(*) FROM contacts c WHERE c.date_added >= d.since AND c.date_added < d.until),
       (SELECT count(*) FROM suppressions s
        WHERE s.reason IN ('unsubscribe', 'complaint') AND s.created_at >= d.since AND s.created_at < d.until),
       (SELECT count(*) FROM suppressions s
        WHERE s.reason = 'bounce' AND s.created_at >= d.since AND s.created_at < d.until)
FROM days d ORDER BY d.day
ON CONFLICT (day) DO UPDATE SET subscribed = EXCLUDED.subscribed, unsubscribed = EXCLUDED.unsubscribed,
  bounced = EXCLUDED.bounced
""")

FIRST_AUDIENCE_DAY = text("""
SELECT (least((SELECT min(date_added) FROM contacts), (SELECT min(created_at) FROM suppressions))
        AT TIME ZONE 'UTC')::date
""")


@dataclass(frozen=True)
class RolledUp:
    opened: list[int]  # events that are a message's first open, or its first human open
    clicked: list[int]  # clicks


async def roll_up_events(session: AsyncSession, event_ids: Sequence[int], first: datetime, last: datetime) -> RolledUp:
    if not event_ids:
        return RolledUp([], [])
    row = (await session.execute(ROLL_UP_EVENTS, {"ids": list(event_ids), "first": first, "last": last})).one()
    return RolledUp(row.opened, row.clicked)


# What an email.opened or email.clicked webhook event says.
ENGAGEMENT = text("""
SELECT e.campaign_id, e.delivery_id, e.contact_id, d.email, e.at, e.machine, e.client, e.device,
       e.link_id, l.url
FROM email_events e JOIN deliveries d ON d.id = e.delivery_id LEFT JOIN links l ON l.id = e.link_id
WHERE e.id = ANY(CAST(:ids AS bigint[]))
ORDER BY e.at, e.id
""")


async def engagement(session: AsyncSession, event_ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = await session.execute(ENGAGEMENT, {"ids": list(event_ids)})
    return [dict(row._mapping) for row in rows]


async def roll_up_sends(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    if delivery_ids:
        await session.execute(ROLL_UP_SENDS, {"ids": list(delivery_ids)})


async def recount_audience(session: AsyncSession, since: date) -> None:
    await session.execute(AUDIENCE, {"since": since})


async def rebuild(session: AsyncSession) -> None:
    """Every rollup again from the stored events, deliveries, contacts and suppressions."""
    await session.execute(text(f"TRUNCATE {', '.join(ROLLUP_TABLES)}"))
    await session.execute(REBUILD_EVENTS)
    await session.execute(REBUILD_SENDS)
    since = await session.scalar(FIRST_AUDIENCE_DAY)
    if since is not None:
        await recount_audience(session, since)
