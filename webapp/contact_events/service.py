"""Recording custom events, and reading a contact's latest.

`record` is the door for every producer (the API now, imports or integrations later): set-based,
idempotent by the sender's key, and the contacts' scores follow in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import triggers
from webapp.contact_events import queries
from webapp.contact_events.models import ContactEvent
from webapp.contact_events.schemas import EventIn
from webapp.contacts import service as contacts
from webapp.core.cursors import Part, decode_cursor, encode_cursor
from webapp.core.errors import Conflict
from webapp.core.schemas import idempotency_key, load
from webapp.scoring import service as scoring

RECENT = 20
EVENT_KEY = (Part.TIME, Part.ID)  # occurred_at, id


@dataclass(frozen=True)
class NewEvent:
    contact_id: int
    name: str
    properties: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None  # now
    client_key: str | None = None


@dataclass(frozen=True)
class Posted:
    event: ContactEvent
    created: bool


async def record(session: AsyncSession, events: Sequence[NewEvent]) -> list[tuple[int, str]]:
    """Store the events not stored before (by client key), score them and start the automations
    they trigger; the (contact_id, name) of each newly stored event."""
    return [(event.contact_id, event.name) for event in await _store(session, events)]


async def _store(session: AsyncSession, events: Sequence[NewEvent]) -> list[ContactEvent]:
    if not events:
        return []
    now = datetime.now(UTC)
    rows = [
        {
            "contact_id": event.contact_id,
            "name": event.name,
            "properties": event.properties,
            "occurred_at": event.occurred_at or now,
            "client_key": event.client_key,
        }
        for event in events
    ]
    stored = await queries.insert_new(session, rows)
    if stored:
        names = ", ".join(sorted({event.name for event in stored}))
        await scoring.refresh(session, sorted({event.contact_id for event in stored}), f"Event: {names}")
        by_name: dict[str, list[int]] = defaultdict(list)
        for event in stored:
            by_name[event.name].append(event.contact_id)
        for name, contact_ids in by_name.items():
            await triggers.signal(session, "custom_event", contact_ids, name=name)
    return stored


async def post(session: AsyncSession, data: Mapping[str, Any], header_key: str | None = None) -> Posted:
    """One event from the API. A repeat of an idempotency key (the body's or the Idempotency-Key
    header) answers with the stored event; the same key for another event is a conflict saying what
    differs."""
    values = load(EventIn, data)
    contact_id = await contacts.named_in(session, values)
    key = idempotency_key(EventIn, values, header_key)
    event = NewEvent(contact_id, values["name"], values.get("properties", {}), values.get("occurred_at"), key)
    if stored := await _store(session, [event]):
        return Posted(stored[0], created=True)
    assert key is not None  # only a keyed event is ever left out
    existing = await queries.by_client_key(session, key)
    assert existing is not None
    differs = [
        what
        for what, stored_value, sent in (
            ("contact", existing.contact_id, contact_id),
            ("name", existing.name, event.name),
            ("properties", existing.properties, event.properties),
            ("time", existing.occurred_at, event.occurred_at or existing.occurred_at),  # sent, or now
        )
        if stored_value != sent
    ]
    if differs:
        message = f"This idempotency key was used already for another event (different {differs[0]})."
        raise Conflict(message, "idempotency_key")
    return Posted(existing, created=False)


async def recent(session: AsyncSession, contact_id: int) -> list[ContactEvent]:
    """The contact's latest events, newest first."""
    return await queries.recent(session, contact_id, RECENT)


@dataclass(frozen=True)
class EventPage:
    events: list[ContactEvent]
    next_cursor: str | None  # stands for the last event's (occurred_at, id)


async def page(session: AsyncSession, contact_id: int, cursor: str | None, limit: int = RECENT) -> EventPage:
    """The contact's events, newest first, a page older than the cursor's."""
    key = decode_cursor(cursor, *EVENT_KEY)
    rows = await queries.recent(session, contact_id, limit + 1, (key[0], key[1]) if key else None)
    more, rows = len(rows) > limit, rows[:limit]
    return EventPage(rows, encode_cursor(rows[-1].occurred_at, rows[-1].id) if more else None)


def is_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *EVENT_KEY) is not None


async def of_contact(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    """Every event of the contact, for their data export."""
    return [
        {"name": e.name, "properties": e.properties, "occurred_at": e.occurred_at, "idempotency_key": e.client_key}
        for e in await queries.of_contact(session, contact_id)
    ]
