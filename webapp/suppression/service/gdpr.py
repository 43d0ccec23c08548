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
4. the contact is deleted; its list memberships, consent records, custom events and score (with its
   history) go with it (ON DELETE CASCADE),
   and its orders (conversions) lose the link to it but keep their amount and campaign (the revenue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contact_events import service as contact_events
from webapp.contacts.models import Contact
from webapp.contacts.service import get_contact
from webapp.conversions import service as conversions
from webapp.core.errors import ValidationFailed
from webapp.core.schemas import load
from webapp.scoring import service as scoring
from webapp.suppression.models import CREATED_BY_MAX_LENGTH
from webapp.suppression.queries import gdpr as queries
from webapp.suppression.queries import suppression as suppression_queries
from webapp.suppression.schemas import ErasureConfirmation
from webapp.suppression.service import suppression

EXPORT_VERSION = 1


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


def _profile(contact: Contact) -> dict[str, Any]:
    """Every column of the contact (custom fields, tags and preferences included), but the ones
    derived from others for indexing (search vector, address hash), and its count of messages sent
    (kept in a table of its own)."""
    columns = {
        column.key: _json(getattr(contact, column.key))
        for column in Contact.__table__.columns
        if column.computed is None
    }
    return columns | {"emails_sent": contact.emails_sent}


async def export_contact(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    """Everything held about one contact, JSON-ready. NotFound for an unknown id."""
    contact = await get_contact(session, contact_id)
    entry = await suppression.status_of(session, contact.email)
    return {
        "export_version": EXPORT_VERSION,
        "exported_at": _json(await queries.database_now(session)),
        "contact": _profile(contact),
        "lists": _json(await queries.memberships(session, contact.id)),
        "consent_records": _json(await queries.consent_records(session, contact.id)),
        "deliveries": _json(await queries.deliveries(session, contact.id)),
        "events": _json(await queries.events(session, contact.id)),
        "conversions": _json(await conversions.of_contact(session, contact.id)),
        "custom_events": _json(await contact_events.of_contact(session, contact.id)),
        "lead_score": _json(await scoring.export_of(session, contact.id)),
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
    suppression_id = await suppression_queries.erase_address(session, contact.email, actor[:CREATED_BY_MAX_LENGTH])
    delivery_ids = await queries.anonymise_deliveries(session, contact.id, contact.email)
    await queries.stop_unsent(session, delivery_ids)
    events = await queries.anonymise_events(session, contact.id, delivery_ids)
    await session.delete(contact)
    await session.flush()
    suppression.audit.info(
        "contact erased: id=%s by=%s deliveries=%s events=%s",
        contact_id,
        actor,
        len(delivery_ids),
        events,
        extra={"action": "contact.erase", "contact_id": contact_id, "actor": actor},
    )
    return Erasure(contact_id, suppression_id, len(delivery_ids), events)


async def erase_on_request(session: AsyncSession, contact_id: int, data: Mapping[str, Any], actor: str) -> Erasure:
    """Erase from the privacy page, whose form has the contact's address typed again
    (ErasureConfirmation); ValidationFailed on `confirm_email` when it is not that address."""
    contact = await get_contact(session, contact_id)
    typed: str = load(ErasureConfirmation, data)["confirm_email"]
    if typed.lower() != contact.email.lower():
        raise ValidationFailed({"confirm_email": "Type the contact's address exactly to confirm."})
    return await erase_contact(session, contact.id, actor)
