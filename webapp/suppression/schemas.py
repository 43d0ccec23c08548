"""Request and response bodies of /api/suppression and of a contact's GDPR export and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import UNSET, Struct, UnsetType

from webapp.suppression.models import SuppressionReason


class SuppressionCreate(Struct, kw_only=True):
    """One address. `reason` defaults to manual. Unknown fields are rejected (422)."""

    email: str
    reason: SuppressionReason | UnsetType = UNSET
    note: str | UnsetType | None = UNSET


class SuppressionBulkIn(Struct, kw_only=True):
    """Up to 10,000 addresses; each entry is one address (its position is its `line` in the report)."""

    emails: list[str]
    reason: SuppressionReason | UnsetType = UNSET
    note: str | UnsetType | None = UNSET


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
    suppression: SuppressionStatusOut


class ErasureOut(Struct):
    contact_id: int
    suppression_id: int
    deliveries_anonymised: int
    events_anonymised: int
