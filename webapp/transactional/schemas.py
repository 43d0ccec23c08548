"""The transactional message request (POST /api/tx's body) and what the API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.core.schemas import Schema, email_address, json_object, row_id, text
from webapp.transactional.models import IDEMPOTENCY_KEY_MAX_LENGTH

DATA_MAX_BYTES = 16_384


class TxIn(Schema, kw_only=True):
    template_id: Annotated[int, Meta(title="Template"), row_id("Choose a transactional template.")]
    to: Annotated[str, Meta(title="To"), email_address()]
    # Any, not dict: checked by json_object, so a wrong type is named `data` (Litestar's own type check
    # calls the body `data` too, and the answer would name the body instead).
    data: Annotated[
        Any, Meta(title="Data", extra_json_schema={"extra": {"type": "object"}}), json_object(DATA_MAX_BYTES)
    ] = UNSET
    idempotency_key: Annotated[
        str | UnsetType,
        Meta(title="Idempotency key"),
        text(IDEMPOTENCY_KEY_MAX_LENGTH, blank="Enter a key or leave it out."),
    ] = UNSET


class TxOut(Struct, frozen=True, kw_only=True):
    """A transactional message: `status` is its delivery's (pending, sending, sent, delivered,
    opened, clicked, bounced, complained, failed, skipped, in_doubt ...)."""

    id: int
    template_id: int | None
    to: str
    status: str
    error: str
    idempotency_key: str | None
    created_at: datetime
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
