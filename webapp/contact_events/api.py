"""JSON API: POST /api/events (an editor key records a custom event for a contact) and a contact's
latest events (a viewer key reads)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody

from webapp.contact_events import service as contact_events
from webapp.contact_events.models import CLIENT_KEY_MAX_LENGTH, ContactEvent
from webapp.contact_events.schemas import EventIn, EventOut, EventPageOut
from webapp.contacts import service as contacts
from webapp.core.api import Cursor, Limit, checked_cursor, error_responses, id_parameter, sent_object
from webapp.core.audit_trail import NOT_AUDITED
from webapp.core.deps import Db
from webapp.core.http import StaffRequest

ContactId = Annotated[int, id_parameter("Contact id.")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description=f"The client's key for this event (or the body's `idempotency_key`, at most "
        f"{CLIENT_KEY_MAX_LENGTH} characters; longer is a 422 naming it, as in the body): a retry with the same key "
        "and event answers 200 with the stored event; the key with another event is a 409.",
    ),
]


def event_out(row: ContactEvent) -> EventOut:
    return EventOut(
        id=row.id,
        contact_id=row.contact_id,
        name=row.name,
        properties=row.properties,
        occurred_at=row.occurred_at,
        idempotency_key=row.client_key,
        created_at=row.created_at,
    )


class ApiContactEventsController(Controller):
    tags = ("events",)

    @post(
        "/events",
        summary="Record a custom event",
        opt=NOT_AUDITED,
        description="Something a contact did elsewhere, such as `purchase` or `abandoned_cart`: the contact by "
        "`email` or `contact_id` (422 naming the field when there is none), `name` (letters, digits and "
        "_ . : -), `properties` (an object, at most 16 KB of JSON), `occurred_at` (ISO 8601, default now). "
        "With `idempotency_key` (or an `Idempotency-Key` header) a retry is stored once: a repeat answers 200 "
        "with the stored event, the same key for another contact, name, properties or time is a 409 saying "
        "which. Scoring rules for the event's name apply at once.",
        responses={
            200: ResponseSpec(EventOut, description="Recorded already; unchanged.", generate_examples=False),
            **error_responses(409, 422),
        },
    )
    async def record(
        self, request: StaffRequest, data: JSONBody[EventIn], db: Db, idempotency_key: IdempotencyKey = None
    ) -> Response[EventOut]:
        posted = await contact_events.post(db, await sent_object(request), idempotency_key)
        return Response(event_out(posted.event), status_code=201 if posted.created else 200)

    @get(
        "/contacts/{contact_id:int}/events",
        summary="A contact's custom events",
        description="Newest first, `limit` at a time; `next_cursor` as `cursor` for the next page.",
        responses=error_responses(404),
    )
    async def of_contact(
        self, db: Db, contact_id: ContactId, limit: Limit = contact_events.RECENT, cursor: Cursor = None
    ) -> EventPageOut:
        await contacts.get_contact(db, contact_id)
        found = await contact_events.page(db, contact_id, checked_cursor(cursor, contact_events.is_cursor), limit)
        return EventPageOut(items=[event_out(row) for row in found.events], next_cursor=found.next_cursor)
