"""The custom event input (the API's body) and the API's output."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.contact_events.models import CLIENT_KEY_MAX_LENGTH, NAME_MAX_LENGTH
from webapp.core.schemas import Schema, Values, email_address, json_object, matches, moment, row_id, text

EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
EVENT_NAME_RULE = matches(EVENT_NAME, "An event name is letters, digits and _ . : - (such as abandoned_cart).")
PROPERTIES_MAX_BYTES = 16_384


class EventIn(Schema, kw_only=True):
    contact_id: Annotated[int | UnsetType, Meta(title="Contact id"), row_id()] = UNSET
    email: Annotated[str | UnsetType, Meta(title="Email"), email_address()] = UNSET
    name: Annotated[
        str,
        Meta(title="Name"),
        text(NAME_MAX_LENGTH, blank="Enter the event's name, such as purchase."),
        EVENT_NAME_RULE,
    ]
    properties: Annotated[dict[str, Any] | UnsetType, Meta(title="Properties"), json_object(PROPERTIES_MAX_BYTES)] = (
        UNSET
    )
    occurred_at: Annotated[str | UnsetType, Meta(title="Occurred at"), moment()] = UNSET
    idempotency_key: Annotated[
        str | UnsetType,
        Meta(title="Idempotency key"),
        text(CLIENT_KEY_MAX_LENGTH, blank="Enter a key or leave it out."),
    ] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if ("contact_id" in values) == ("email" in values):  # both could name two contacts
            return {"email": "Send the contact's email or contact_id (one of them)."}
        return {}


class EventOut(Struct, frozen=True, kw_only=True):
    id: int
    contact_id: int
    name: str
    properties: dict[str, Any]
    occurred_at: datetime
    idempotency_key: str | None
    created_at: datetime


class EventPageOut(Struct, frozen=True, kw_only=True):
    items: list[EventOut]
    next_cursor: str | None
