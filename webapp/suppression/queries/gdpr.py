"""The SQL of a contact's GDPR export (everything held about it, as rows) and of its erasure (its
history kept for the statistics, without the address or the link to the contact)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import rows_changed

LISTS = text("""
SELECT l.id, l.name, l.list_type, m.added_at
FROM list_members m JOIN email_lists l ON l.id = m.list_id
WHERE m.contact_id = :c ORDER BY m.added_at, l.id
""")

CONSENTS = text("""
SELECT s.list_id, l.name AS list_name, s.status, s.source, s.ip_address, s.user_agent, s.consent_text,
       s.created_at, s.confirmed_at, s.unsubscribed_at
FROM subscriptions s JOIN email_lists l ON l.id = s.list_id
WHERE s.contact_id = :c ORDER BY s.created_at, s.id
""")

DELIVERIES = text("""
SELECT d.campaign_id, c.name AS campaign_name, c.subject AS campaign_subject, d.email, d.status, d.attempts,
       d.message_id, d.error_message, d.created_at, d.sent_at, d.opened_at, d.clicked_at, d.bounced_at,
       d.unsubscribed_at
FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
WHERE d.contact_id = :c ORDER BY d.id
""")

EVENTS = text("""
SELECT e.kind, e.at, e.campaign_id, c.name AS campaign_name, k.url AS link_url, e.detail
FROM email_events e
LEFT JOIN campaigns c ON c.id = e.campaign_id
LEFT JOIN links k ON k.id = e.link_id
WHERE e.contact_id = :c ORDER BY e.at, e.id
""")

ANONYMISE_DELIVERIES_OF_CONTACT = text("""
UPDATE deliveries SET email = '', error_message = '', contact_id = NULL, updated_at = now()
WHERE contact_id = :c RETURNING id
""")

# Deliveries to the same address whose contact was deleted (not erased) before. No index on the
# address: a sequential scan, acceptable for an occasional erasure request.
ANONYMISE_ORPHAN_DELIVERIES = text("""
UPDATE deliveries SET email = '', error_message = '', updated_at = now()
WHERE contact_id IS NULL AND email <> '' AND lower(email) = lower(:email) RETURNING id
""")

# Deliveries not sent yet must not go out to an empty address: they are skipped, counted as the
# send pipeline counts contacts no longer mailable when their turn comes.
STOP_UNSENT = text("""
WITH stopped AS (
  UPDATE deliveries SET status = 'skipped', error_message = 'Not sent: the contact was erased.', claimed_at = NULL
  WHERE id = ANY(CAST(:delivery_ids AS bigint[])) AND status IN ('pending', 'sending')
  RETURNING campaign_id
)
UPDATE campaigns c SET skipped_count = c.skipped_count + s.n, updated_at = now()
FROM (SELECT campaign_id, count(*) AS n FROM stopped GROUP BY campaign_id) s
WHERE c.id = s.campaign_id
""")

ANONYMISE_EVENTS = text("""
UPDATE email_events SET detail = '', contact_id = NULL
WHERE contact_id = :c OR delivery_id = ANY(CAST(:delivery_ids AS bigint[]))
""")


async def _rows(session: AsyncSession, query: TextClause, contact_id: int) -> list[dict[str, Any]]:
    return [dict(row) for row in (await session.execute(query, {"c": contact_id})).mappings()]


async def memberships(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    return await _rows(session, LISTS, contact_id)


async def consent_records(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    return await _rows(session, CONSENTS, contact_id)


async def deliveries(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    return await _rows(session, DELIVERIES, contact_id)


async def events(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    return await _rows(session, EVENTS, contact_id)


async def database_now(session: AsyncSession) -> datetime:
    """The transaction's time, as every timestamp the export shows was written."""
    now: datetime = (await session.execute(text("SELECT now()"))).scalar_one()
    return now


async def anonymise_deliveries(session: AsyncSession, contact_id: int, email: str) -> list[int]:
    """Strip the address from the contact's deliveries and from earlier deleted contacts' ones to the
    same address; their ids."""
    ids = list(await session.scalars(ANONYMISE_DELIVERIES_OF_CONTACT, {"c": contact_id}))
    return ids + list(await session.scalars(ANONYMISE_ORPHAN_DELIVERIES, {"email": email}))


async def stop_unsent(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    await session.execute(STOP_UNSENT, {"delivery_ids": list(delivery_ids)})


async def anonymise_events(session: AsyncSession, contact_id: int, delivery_ids: Sequence[int]) -> int:
    """Events of the contact and of these deliveries lose their detail and contact; how many."""
    result = await session.execute(ANONYMISE_EVENTS, {"c": contact_id, "delivery_ids": list(delivery_ids)})
    return rows_changed(result)
