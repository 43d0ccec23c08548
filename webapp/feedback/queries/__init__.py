"""Feedback's SQL: find the deliveries a batch of provider reports is about, store the reports once
each, and move what they move (delivered status and counters, bounce and complaint effects, the
soft-bounce count), each a single statement for the whole batch. The rates' counters: rates.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact

# Per report, the delivery it is about: the one a verified VERP address names, else the one the
# provider's own id of the message names (with the recipient: SendGrid's is one per request), else
# the one with our Message-ID, else the recipient's latest message sent (a provider that quotes
# none). A report that names something we do not have falls through to the next way. When no
# delivery matches, the contact with that address, if any, so a bounce or complaint still reaches
# the address. (ix_deliveries_provider_message_id, ix_deliveries_message_id and
# ix_deliveries_email_lower_id make each way an index lookup.)
RESOLVE = text("""
SELECT b.n, d.id, d.campaign_id, coalesce(d.contact_id, k.id), l.id, coalesce(d.email, k.email)
FROM unnest(CAST(:delivery_ids AS bigint[]), CAST(:provider_message_ids AS text[]), CAST(:message_ids AS text[]),
            CAST(:emails AS text[]), CAST(:urls AS text[]))
     WITH ORDINALITY AS b(delivery_id, provider_message_id, message_id, email, url, n)
LEFT JOIN LATERAL (
  SELECT x.id, x.campaign_id, x.contact_id, x.email FROM (
    (SELECT id, campaign_id, contact_id, email, 1 AS way FROM deliveries WHERE id = b.delivery_id)
    UNION ALL
    (SELECT id, campaign_id, contact_id, email, 2 FROM deliveries
     WHERE provider_message_id = b.provider_message_id AND lower(email) = b.email ORDER BY id DESC LIMIT 1)
    UNION ALL
    (SELECT id, campaign_id, contact_id, email, 3 FROM deliveries WHERE message_id = b.message_id ORDER BY id LIMIT 1)
    UNION ALL
    (SELECT id, campaign_id, contact_id, email, 4 FROM deliveries
     WHERE lower(email) = b.email AND sent_at IS NOT NULL ORDER BY id DESC LIMIT 1)
  ) x ORDER BY x.way LIMIT 1
) d ON true
LEFT JOIN contacts k ON d.id IS NULL AND lower(k.email) = b.email
LEFT JOIN links l ON l.campaign_id = d.campaign_id AND l.url = b.url
ORDER BY b.n
""")

# Batches recorded side by side (two webhooks, the mailbox poller) may share deliveries: each locks
# its deliveries in id order first, as the event worker does, so they never wait on each other in a circle.
LOCK_DELIVERIES = text("SELECT id FROM deliveries WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR UPDATE")

# Reports stored once each: a repeated report (same key) inserts nothing and so moves nothing. No
# conflict target: the key's unique index is (event_key) today, and (event_key, at) once email_events
# is partitioned by time (a repeated report carries the time the provider gave it, so it still conflicts).
INSERT_EVENTS = text("""
INSERT INTO email_events (event_key, delivery_id, campaign_id, contact_id, kind, detail, at, user_agent)
SELECT * FROM unnest(CAST(:keys AS uuid[]), CAST(:deliveries AS bigint[]), CAST(:campaigns AS bigint[]),
                     CAST(:contacts AS bigint[]), CAST(:kinds AS text[]), CAST(:details AS text[]),
                     CAST(:ats AS timestamptz[]), CAST(:agents AS text[]))
ON CONFLICT DO NOTHING
RETURNING id, event_key
""")

# A delivery is counted delivered once, whoever reports it and however often; its status moves
# forward from 'sent' only (an open or click already says more).
DELIVERED = text("""
WITH reported AS (
  SELECT delivery_id, min(at) AS at
  FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[])) AS v(delivery_id, at) GROUP BY delivery_id
), firsts AS (
  UPDATE deliveries d
  SET delivered_at = r.at, status = CASE WHEN d.status = 'sent' THEN 'delivered' ELSE d.status END, updated_at = now()
  FROM reported r WHERE d.id = r.delivery_id AND d.delivered_at IS NULL
  RETURNING d.id, d.campaign_id, d.contact_id, d.email
), counted AS (
  UPDATE campaigns c SET delivered_count = c.delivered_count + f.n, updated_at = now()
  FROM (SELECT campaign_id, count(*) AS n FROM firsts GROUP BY campaign_id) f WHERE c.id = f.campaign_id
)
SELECT id, campaign_id, contact_id, email FROM firsts ORDER BY id
""")

# A provider's hard bounce for a message we handed over: the first bounce of each delivery only.
# The diagnostic goes where the send pipeline keeps its own refusal's (the suppression note quotes it).
BOUNCED = text("""
UPDATE deliveries d
SET status = 'bounced', bounced_at = v.at, error_message = v.detail, updated_at = now()
FROM (SELECT DISTINCT ON (id) id, at, detail
      FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[]), CAST(:details AS text[])) AS u(id, at, detail)
      ORDER BY id, at) v
WHERE d.id = v.id AND d.bounced_at IS NULL
RETURNING d.id
""")

# What every hard bounce does, however it was learnt (the send pipeline's 5xx or a provider's report):
# the campaign counts it, and an active contact becomes bounced. Given deliveries just marked bounced.
BOUNCE_EFFECTS = text("""
WITH bounced AS (SELECT id, campaign_id, contact_id FROM deliveries WHERE id = ANY(CAST(:ids AS bigint[]))),
counted AS (
  UPDATE campaigns c SET bounced_count = c.bounced_count + b.n, updated_at = now()
  FROM (SELECT campaign_id, count(*) AS n FROM bounced GROUP BY campaign_id) b WHERE c.id = b.campaign_id
)
UPDATE contacts SET status = 'bounced', last_updated = now()
WHERE id IN (SELECT contact_id FROM bounced) AND status = 'active'
""")

CONTACTS_BOUNCED = text("""
UPDATE contacts SET status = 'bounced', last_updated = now()
WHERE id = ANY(CAST(:ids AS bigint[])) AND status = 'active'
""")

# A complaint is counted once per delivery, and the delivery says so (unless it bounced).
COMPLAINED = text("""
WITH firsts AS (
  UPDATE deliveries SET status = 'complained', updated_at = now()
  WHERE id = ANY(CAST(:ids AS bigint[])) AND status NOT IN ('complained', 'bounced')
  RETURNING campaign_id
)
UPDATE campaigns c SET complained_count = c.complained_count + f.n, updated_at = now()
FROM (SELECT campaign_id, count(*) AS n FROM firsts GROUP BY campaign_id) f WHERE c.id = f.campaign_id
""")

# A complaint is the strongest opt-out: an active, unconfirmed or unsubscribed contact becomes
# complained. Those that were active opted out just now (the others were not mailed already).
CONTACTS_COMPLAINED = text("""
UPDATE contacts c SET status = 'complained', last_updated = now()
FROM (SELECT id, status AS was FROM contacts WHERE id = ANY(CAST(:ids AS bigint[])) FOR UPDATE) o
WHERE c.id = o.id AND o.was IN ('active', 'pending', 'unsubscribed')
RETURNING c.id, o.was = 'active'
""")


@dataclass(frozen=True)
class Match:
    delivery_id: int | None
    campaign_id: int | None
    contact_id: int | None  # the delivery's contact, else the contact with the reported address
    link_id: int | None  # for a click: the campaign's link with the reported URL
    email: str | None  # the address we sent to (the delivery's, else the contact's); None: unknown


async def resolve(
    session: AsyncSession,
    delivery_ids: Sequence[int | None],
    provider_message_ids: Sequence[str | None],
    message_ids: Sequence[str | None],
    emails: Sequence[str],
    urls: Sequence[str | None],
) -> list[Match]:
    """One Match per report, in the order given."""
    values = {
        "delivery_ids": delivery_ids,
        "provider_message_ids": provider_message_ids,
        "message_ids": message_ids,
        "emails": emails,
        "urls": urls,
    }
    return [Match(*row[1:]) for row in (await session.execute(RESOLVE, values)).all()]


async def lock_deliveries(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    if delivery_ids:
        await session.execute(LOCK_DELIVERIES, {"ids": sorted(set(delivery_ids))})


@dataclass(frozen=True)
class EventRow:
    key: UUID
    delivery_id: int | None
    campaign_id: int | None
    contact_id: int | None
    kind: str
    detail: str
    at: datetime
    user_agent: str


async def insert_events(session: AsyncSession, rows: Sequence[EventRow]) -> dict[UUID, int]:
    """Store the reports not stored before: the new rows' ids by key."""
    if not rows:
        return {}
    columns = ("key", "delivery_id", "campaign_id", "contact_id", "kind", "detail", "at", "user_agent")
    names = ("keys", "deliveries", "campaigns", "contacts", "kinds", "details", "ats", "agents")
    values = {name: [getattr(row, column) for row in rows] for name, column in zip(names, columns, strict=True)}
    return {key: event_id for event_id, key in (await session.execute(INSERT_EVENTS, values)).all()}


@dataclass(frozen=True)
class Delivered:
    id: int
    campaign_id: int
    contact_id: int | None
    email: str


async def mark_delivered(
    session: AsyncSession, delivery_ids: Sequence[int], ats: Sequence[datetime]
) -> list[Delivered]:
    """Deliveries reported delivered for the first time (their campaigns counted)."""
    if not delivery_ids:
        return []
    rows = (await session.execute(DELIVERED, {"ids": delivery_ids, "ats": ats})).all()
    return [Delivered(*row) for row in rows]


async def mark_bounced(
    session: AsyncSession, delivery_ids: Sequence[int], ats: Sequence[datetime], details: Sequence[str]
) -> list[int]:
    """Deliveries a provider reports hard-bounced, the first time only: their ids."""
    if not delivery_ids:
        return []
    return list(await session.scalars(BOUNCED, {"ids": delivery_ids, "ats": ats, "details": details}))


async def bounce_effects(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    if delivery_ids:
        await session.execute(BOUNCE_EFFECTS, {"ids": list(delivery_ids)})


async def contacts_bounced(session: AsyncSession, contact_ids: Sequence[int]) -> None:
    if contact_ids:
        await session.execute(CONTACTS_BOUNCED, {"ids": list(contact_ids)})


async def mark_complained(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    if delivery_ids:
        await session.execute(COMPLAINED, {"ids": list(delivery_ids)})


async def contacts_complained(session: AsyncSession, contact_ids: Sequence[int]) -> list[int]:
    """Make these contacts complained; the ids of those that were active (they opted out just now)."""
    if not contact_ids:
        return []
    rows = (await session.execute(CONTACTS_COMPLAINED, {"ids": sorted(set(contact_ids))})).all()
    return [contact_id for contact_id, was_active in rows if was_active]


async def contacts(session: AsyncSession, contact_ids: Sequence[int]) -> list[Contact]:
    if not contact_ids:
        return []
    query = select(Contact).where(Contact.id.in_(contact_ids)).order_by(Contact.id)
    return list(await session.scalars(query.execution_options(populate_existing=True)))  # after raw UPDATEs


async def emails_of(session: AsyncSession, contact_ids: Sequence[int]) -> list[str]:
    if not contact_ids:
        return []
    return list(await session.scalars(select(Contact.email).where(Contact.id.in_(contact_ids))))


SOFT_BOUNCE_PREFIX = "soft: "  # how a soft bounce's detail starts (recording.py writes it)

# Active contacts with at least :limit soft-bounced messages in the window (a message reported by two
# sources counts once; a bounce that matched no message counts on its own).
OVER_SOFT_BOUNCE_LIMIT = text("""
SELECT e.contact_id
FROM email_events e JOIN contacts c ON c.id = e.contact_id AND c.status = 'active'
WHERE e.contact_id = ANY(CAST(:ids AS bigint[])) AND e.kind = 'bounce' AND starts_with(e.detail, :prefix)
  AND e.at > now() - make_interval(days => :days)
GROUP BY e.contact_id
HAVING count(DISTINCT coalesce(e.delivery_id, -e.id)) >= :limit
ORDER BY e.contact_id
""")


async def over_soft_bounce_limit(session: AsyncSession, contact_ids: Sequence[int], limit: int, days: int) -> list[int]:
    values = {"ids": sorted(set(contact_ids)), "prefix": SOFT_BOUNCE_PREFIX, "limit": limit, "days": days}
    return list(await session.scalars(OVER_SOFT_BOUNCE_LIMIT, values))
