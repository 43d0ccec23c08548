"""The global suppression list (seed 004): addresses that never receive campaign mail, whatever list
they are on. Reasons: bounce, complaint, unsubscribe, manual, compliance.

- Adding is idempotent and keeps the first entry: an address already suppressed stays suppressed for
  its original reason, since and note (a bounce is more telling than a later "manual"), and an erased
  address (kept as a hash only) never gets its address written back. `add` says whether it was new.
- Removing needs a reason. It is written to the `mailroom.audit` log (who, when, the address, its
  old reason and the reason for removing it); the row itself is deleted, so the address can be mailed
  again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.validation import normalize_email, text_field
from webapp.suppression import queries
from webapp.suppression.models import Suppression, SuppressionReason
from webapp.suppression.queries import SuppressionPage

audit = logging.getLogger("mailroom.audit")

REASONS = [r.value for r in SuppressionReason]
MAX_BULK = 10_000
NOTE_MAX, SOURCE_MAX, CREATED_BY_MAX = 2000, 200, 320


@dataclass(frozen=True)
class AddResult:
    suppression: Suppression
    created: bool  # False: the address was suppressed already and its entry was left as it was


@dataclass(frozen=True)
class RejectedLine:
    line: int
    text: str
    reason: str


@dataclass
class BulkReport:
    added: int = 0  # newly suppressed
    already: int = 0  # valid addresses that were suppressed already (or repeated in the paste)
    rejected: list[RejectedLine] = field(default_factory=list)


@dataclass(frozen=True)
class Removed:
    id: int
    email: str | None
    reason: str
    since: datetime
    removal_reason: str


def _reason(raw: Any) -> str:
    if raw not in REASONS:
        raise ValueError("Choose a reason: " + ", ".join(REASONS) + ".")
    return raw


def _extras(note: Any, source: Any, created_by: Any, errors: dict[str, str]) -> tuple[str, str, str]:
    values = []
    for name, raw, label, limit in (
        ("note", note, "Note", NOTE_MAX),
        ("source", source, "Source", SOURCE_MAX),
        ("created_by", created_by, "Created by", CREATED_BY_MAX),
    ):
        try:
            values.append(text_field(raw, label, limit))
        except ValueError as exc:
            errors[name] = str(exc)
            values.append("")
    return values[0], values[1], values[2]


def validate_entry(data: Mapping[str, Any]) -> dict[str, str]:
    """email, reason (default manual) and note of one entry as sent by a form or the API; every
    problem at once, unknown fields named."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    try:
        values["email"] = normalize_email(data.get("email"))
    except ValueError as exc:
        errors["email"] = str(exc)
    try:
        values["reason"] = _reason(data.get("reason") or SuppressionReason.MANUAL.value)
    except ValueError as exc:
        errors["reason"] = str(exc)
    values["note"], _, _ = _extras(data.get("note"), "", "", errors)
    for name in sorted(set(data) - {"email", "reason", "note"}):
        errors[name] = "Unknown field."
    if errors:
        raise ValidationFailed(errors)
    return values


async def add(
    session: AsyncSession, email: Any, reason: Any, *, note: Any = "", source: Any = "", created_by: Any = ""
) -> AddResult:
    """Suppress one address. Idempotent: an address suppressed already keeps its entry (created=False)."""
    errors: dict[str, str] = {}
    try:
        email = normalize_email(email)
    except ValueError as exc:
        errors["email"] = str(exc)
    try:
        reason = _reason(reason)
    except ValueError as exc:
        errors["reason"] = str(exc)
    note, source, created_by = _extras(note, source, created_by, errors)
    if errors:
        raise ValidationFailed(errors)
    new_id = await queries.insert_one(session, email, reason, note, source, created_by)
    row = await queries.by_email(session, email)
    assert row is not None  # inserted now, or there before (rows are deleted only by remove())
    return AddResult(row, new_id is not None)


async def add_many(
    session: AsyncSession, emails: Iterable[Any], reason: Any, *, note: Any = "", source: Any = "", created_by: Any = ""
) -> int:
    """Suppress many addresses in one INSERT ... SELECT FROM unnest; returns how many were new.
    Entries that are not valid addresses are skipped: callers that need them reported (paste, import)
    validate first, e.g. with add_lines."""
    errors: dict[str, str] = {}
    try:
        reason = _reason(reason)
    except ValueError as exc:
        errors["reason"] = str(exc)
    note, source, created_by = _extras(note, source, created_by, errors)
    if errors:
        raise ValidationFailed(errors)
    valid = []
    for raw in emails:
        try:
            valid.append(normalize_email(raw))
        except ValueError:
            continue
    return await queries.insert_many(session, valid, reason, note, source, created_by)


async def add_lines(
    session: AsyncSession,
    lines: Sequence[Any],
    reason: Any,
    *,
    note: Any = "",
    source: Any = "",
    created_by: Any = "",
    field_name: str = "emails",
) -> BulkReport:
    """One address per item (a pasted line, an API list entry): the valid ones are suppressed in one
    statement; the others come back with their 1-based line number and why. Blank lines are skipped."""
    if len(lines) > MAX_BULK:
        raise ValidationFailed({field_name: f"At most {MAX_BULK:,} addresses at a time."})
    emails: list[str] = []
    report = BulkReport()
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, str) and not raw.strip():
            continue
        try:
            emails.append(normalize_email(raw))
        except ValueError as exc:
            report.rejected.append(RejectedLine(number, str(raw)[:200], str(exc)))
    if not emails and not report.rejected:
        raise ValidationFailed({field_name: "Enter at least one email address."})
    report.added = await add_many(session, emails, reason, note=note, source=source, created_by=created_by)
    report.already = len(emails) - report.added
    return report


async def add_pasted(
    session: AsyncSession, pasted: Any, reason: Any, *, note: Any = "", source: str = "paste", created_by: Any = ""
) -> BulkReport:
    if not isinstance(pasted, str) or not pasted.strip():
        raise ValidationFailed({"addresses": "Paste at least one email address, one per line."})
    return await add_lines(
        session, pasted.splitlines(), reason, note=note, source=source, created_by=created_by, field_name="addresses"
    )


async def get(session: AsyncSession, id_or_email: int | str) -> Suppression:
    """The entry by id or by address (any case; finds erased entries too)."""
    row = None
    if isinstance(id_or_email, int):
        row = await queries.by_id(session, id_or_email)
    elif (email := _valid(id_or_email)) is not None:
        row = await queries.by_email(session, email)
    if row is None:
        field = "email" if isinstance(id_or_email, str) else None
        raise NotFound(f"{id_or_email} is not on the suppression list.", field)
    return row


def _valid(email: Any) -> str | None:
    """The address as stored (normalised, so the same hash as when it was added); None when it is
    not an address, which is then never on the list (nothing invalid is stored)."""
    try:
        return normalize_email(email)
    except ValueError:
        return None


async def remove(session: AsyncSession, id_or_email: int | str, reason_for_removal: Any, actor: str) -> Removed:
    """Take an address off the list; the reason is required and goes to the audit log."""
    try:
        why = text_field(reason_for_removal, "Reason", NOTE_MAX)
    except ValueError as exc:
        raise ValidationFailed({"reason": str(exc)}) from None
    if not why:
        raise ValidationFailed({"reason": "Say why this address may receive mail again."})
    row = await get(session, id_or_email)
    removed = Removed(row.id, row.email, row.reason, row.created_at, why)
    await session.delete(row)
    await session.flush()
    audit.info(
        "suppression removed: id=%s email=%s reason=%s since=%s by=%s because=%r",
        row.id,
        row.email or "(erased address)",
        row.reason,
        row.created_at.isoformat(),
        actor,
        why,
        extra={"action": "suppression.remove", "suppression_id": row.id, "actor": actor, "removal_reason": why},
    )
    return removed


async def is_suppressed(session: AsyncSession, email: Any) -> bool:
    """True when the address (any case) is on the list, erased entries included. False for text that
    is not an address (nothing invalid is ever stored)."""
    if (valid := _valid(email)) is None:
        return False
    return await queries.exists(session, valid)


async def status_of(session: AsyncSession, email: str) -> Suppression | None:
    """The entry for this address, or None: for the contact page's badge and the GDPR export."""
    if (valid := _valid(email)) is None:
        return None
    return await queries.by_email(session, valid)


async def check(session: AsyncSession, email: Any) -> Suppression | None:
    """Like status_of for input a person typed: a malformed address is a ValidationFailed on `email`."""
    try:
        normalized = normalize_email(email)
    except ValueError as exc:
        raise ValidationFailed({"email": str(exc)}) from None
    return await queries.by_email(session, normalized)


async def suppressed_among(session: AsyncSession, emails: Sequence[str]) -> set[str]:
    """Which of these addresses are suppressed (lower-cased), in one query: for imports and forms."""
    return await queries.suppressed_among(session, [v for e in emails if (v := _valid(e)) is not None])


async def search(
    session: AsyncSession, q: Any = "", reason: Any = "", cursor: str | None = None, limit: int = 50
) -> SuppressionPage:
    """Newest first, keyset-paged. `q` is an address prefix; an unknown reason means any reason."""
    q = q.strip()[:320].replace("\x00", "") if isinstance(q, str) else ""
    reason = reason if reason in REASONS else ""
    cursor = cursor[:200] if isinstance(cursor, str) else None
    return await queries.find(session, q=q, reason=reason, cursor=cursor, limit=limit)


async def stats(session: AsyncSession) -> dict[str, int]:
    """Entries per reason, every reason present (0 when none), in the order of REASONS."""
    counts = await queries.counts_by_reason(session)
    return {reason: counts.get(reason, 0) for reason in REASONS}


async def suppress_bounced(session: AsyncSession, delivery_ids: Sequence[int]) -> int:
    """Hard bounces recorded by the send pipeline: their addresses get reason 'bounce', set-based."""
    return await queries.insert_bounced(session, delivery_ids)
