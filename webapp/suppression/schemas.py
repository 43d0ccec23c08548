"""The suppression feature's inputs (one schema per input, for the staff forms and the JSON API
alike) and the bodies /api/suppression and a contact's GDPR export and erasure answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.core.schemas import EMAIL_LIMITS, Rule, Schema, email_address, one_of, text
from webapp.suppression.models import EMAIL_MAX_LENGTH, SuppressionReason

REASONS = [r.value for r in SuppressionReason]
NOTE_MAX_LENGTH = 2000
MAX_BULK = 10_000
TOO_MANY = f"At most {MAX_BULK:,} addresses at a time."
PASTE_MISSING = "Paste at least one email address, one per line."


def _address_list(emails: list[str], label: str) -> list[str]:
    if len(emails) > MAX_BULK:
        raise ValueError(TOO_MANY)
    if not any(email.strip() for email in emails):
        raise ValueError("Enter at least one email address.")
    return emails


def _pasted(value: Any, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(PASTE_MISSING)
    if len(value.splitlines()) > MAX_BULK:
        raise ValueError(TOO_MANY)
    return value


# The API's JSON is checked against the enum already (400); forms send text.
Reason = Annotated[
    SuppressionReason | UnsetType, Meta(title="Reason"), one_of(REASONS, "Choose a reason: " + ", ".join(REASONS) + ".")
]
Note = Annotated[str | UnsetType | None, Meta(title="Note"), text(NOTE_MAX_LENGTH)]


class SuppressionCreate(Schema, kw_only=True):
    """One address. `reason` defaults to manual. Unknown fields are rejected (422)."""

    email: Annotated[str, Meta(title="Email"), email_address()]
    reason: Reason = UNSET
    note: Note = UNSET


class SuppressionBulkIn(Schema, kw_only=True):
    """Up to 10,000 addresses; each entry is one address (its position is its `line` in the report).
    `reason` defaults to manual. Unknown fields are rejected (422)."""

    emails: Annotated[
        list[str],
        Meta(title="Emails"),
        Rule(_address_list, limits={"min_items": 1, "max_items": MAX_BULK, "items": EMAIL_LIMITS}),
    ]
    reason: Reason = UNSET
    note: Note = UNSET


class SuppressionPaste(Schema, kw_only=True):
    """The staff page's paste box: one address per line, up to 10,000."""

    addresses: Annotated[str, Meta(title="Email addresses"), Rule(_pasted, missing=PASTE_MISSING, converts=True)]
    reason: Reason = UNSET
    note: Note = UNSET


class SuppressionRemoval(Schema, kw_only=True):
    """Why an address may receive mail again: required, and written to the audit log."""

    reason: Annotated[
        str, Meta(title="Reason"), text(NOTE_MAX_LENGTH, blank="Say why this address may receive mail again.")
    ]


class ErasureConfirmation(Schema, kw_only=True):
    """The privacy page's erase form: the contact's address typed again (the service compares)."""

    confirm_email: Annotated[
        str, Meta(title="Address"), text(EMAIL_MAX_LENGTH, blank="Type the contact's address to confirm.")
    ]


@dataclass(frozen=True)
class Entry:
    """Why and since when an address is suppressed: what a contact's shown state needs."""

    reason: str
    since: datetime


class SuppressionOut(Struct):
    id: int
    email: str | None  # null once the contact was erased: the address is kept only as a hash
    reason: SuppressionReason
    note: str
    source: str
    created_by: str
    created_at: datetime


class SuppressionPageOut(Struct):
    items: list[SuppressionOut]
    next_cursor: str | None


class RejectedLineOut(Struct):
    line: int
    text: str
    reason: str


class SuppressionBulkOut(Struct):
    added: int
    already: int
    rejected: list[RejectedLineOut]


class SuppressionCheckOut(Struct):
    email: str
    suppressed: bool
    reason: SuppressionReason | None
    since: datetime | None


class SuppressionStatsOut(Struct):
    total: int
    by_reason: dict[str, int]


class SuppressionStatusOut(Struct):
    suppressed: bool
    reason: str | None
    since: str | None
    note: str | None


class ContactExportOut(Struct):
    """Everything held about one contact (GDPR right of access); dates are ISO 8601 strings."""

    export_version: int
    exported_at: str
    contact: dict[str, Any]
    lists: list[dict[str, Any]]
    consent_records: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    events: list[dict[str, Any]]
    conversions: list[dict[str, Any]]
    custom_events: list[dict[str, Any]]
    lead_score: dict[str, Any]
    suppression: SuppressionStatusOut


class ErasureOut(Struct):
    contact_id: int
    suppression_id: int
    deliveries_anonymised: int
    events_anonymised: int
