"""GDPR: everything we hold about one contact, as JSON (right of access), and erasure (right to be
forgotten) that keeps the address only as a hash on the suppression list, so a later import or
sign-up of the same address stays suppressed.

Erasure, in one transaction:
1. the suppression list gets a 'compliance' row with no address, only its hash; an address that was
   suppressed already keeps its reason and loses its address (and a note that quotes it);
2. deliveries to the contact, and to the same address from contacts deleted earlier, lose the address,
   the server's reply and the link to the contact (campaign counters are untouched); ones not sent yet
   fail ("Not sent: the contact was erased."), counted as failures of their campaign;
3. email events of the contact and of those deliveries lose their detail and the link to the contact;
4. the contact is deleted; its list memberships and consent records go with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.contacts.service import get_contact
from webapp.suppression import queries as suppression_queries
from webapp.suppression.service import suppression

EXPORT_VERSION = 1

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

# Deliveries not sent yet must not go out to an empty address: they fail, counted like any failure.
STOP_UNSENT = text("""
WITH stopped AS (
  UPDATE deliveries SET status = 'failed', error_message = 'Not sent: the contact was erased.', claimed_at = NULL
  WHERE id = ANY(CAST(:delivery_ids AS bigint[])) AND status IN ('pending', 'sending')
  RETURNING campaign_id
)
UPDATE campaigns c SET failed_count = c.failed_count + s.n, updated_at = now()
FROM (SELECT campaign_id, count(*) AS n FROM stopped GROUP BY campaign_id) s
WHERE c.id = s.campaign_id
""")

ANONYMISE_EVENTS = text("""
UPDATE email_events SET detail = '', contact_id = NULL
WHERE contact_id = :c OR delivery_id = ANY(CAST(:delivery_ids AS bigint[]))
""")


def _json(value: Any) -> Any:
    """JSON-ready: dates as ISO 8601 strings, containers converted throughout."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json(v) for v in value]
    return value


async def _rows(session: AsyncSession, query, contact_id: int) -> list[dict[str, Any]]:
    return [_json(dict(row)) for row in (await session.execute(query, {"c": contact_id})).mappings()]


def _profile(contact: Contact) -> dict[str, Any]:
    """Every column of the contact (custom fields, tags and preferences included), but the ones
    derived from others for indexing (search vector, address hash)."""
    return {
        column.key: _json(getattr(contact, column.key))
        for column in Contact.__table__.columns
        if column.computed is None
    }


async def export_contact(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    """Everything held about one contact, JSON-ready. NotFound for an unknown id."""
    contact = await get_contact(session, contact_id)
    entry = await suppression.status_of(session, contact.email)
    now = await session.scalar(text("SELECT now()"))
    return {
        "export_version": EXPORT_VERSION,
        "exported_at": _json(now),
        "contact": _profile(contact),
        "lists": await _rows(session, LISTS, contact.id),
        "consent_records": await _rows(session, CONSENTS, contact.id),
        "deliveries": await _rows(session, DELIVERIES, contact.id),
        "events": await _rows(session, EVENTS, contact.id),
        "suppression": {
            "suppressed": entry is not None,
            "reason": entry.reason if entry else None,
            "since": _json(entry.created_at) if entry else None,
            "note": entry.note if entry else None,
        },
    }


@dataclass(frozen=True)
class Erasure:
    contact_id: int
    suppression_id: int
    deliveries_anonymised: int
    events_anonymised: int


async def erase_contact(session: AsyncSession, contact_id: int, actor: str) -> Erasure:
    """Forget the contact but keep its address suppressed as a hash. NotFound for an unknown id."""
    contact = await get_contact(session, contact_id)
    email = contact.email
    suppression_id = await suppression_queries.erase_address(session, email, actor[:320])
    delivery_ids = list(await session.scalars(ANONYMISE_DELIVERIES_OF_CONTACT, {"c": contact.id}))
    delivery_ids += list(await session.scalars(ANONYMISE_ORPHAN_DELIVERIES, {"email": email}))
    await session.execute(STOP_UNSENT, {"delivery_ids": delivery_ids})
    events = await session.execute(ANONYMISE_EVENTS, {"c": contact.id, "delivery_ids": delivery_ids})
    await session.delete(contact)
    await session.flush()
    suppression.audit.info(
        "contact erased: id=%s by=%s deliveries=%s events=%s",
        contact_id,
        actor,
        len(delivery_ids),
        events.rowcount,
        extra={"action": "contact.erase", "contact_id": contact_id, "actor": actor},
    )
    return Erasure(contact_id, suppression_id, len(delivery_ids), events.rowcount)
