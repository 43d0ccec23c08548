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
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.core.validation import normalize_email
from webapp.suppression.models import (
    CREATED_BY_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    SOURCE_MAX_LENGTH,
    Suppression,
    SuppressionReason,
)
from webapp.suppression.queries import suppression as queries
from webapp.suppression.queries.suppression import SuppressionPage, decode_cursor
from webapp.suppression.schemas import (
    REASONS,
    Entry,
    SuppressionBulkIn,
    SuppressionCreate,
    SuppressionPaste,
    SuppressionRemoval,
)

audit = logging.getLogger("mailroom.audit")

DEFAULT_REASON = SuppressionReason.MANUAL.value
REJECTED_TEXT_MAX_LENGTH = 200  # of a refused line, shown back in the report
CURSOR_MAX_LENGTH = 200


@dataclass(frozen=True)
class AddResult:
    email: str  # the address as given, normalised (the entry's own is None once erased)
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


@dataclass(frozen=True)
class _Labels:
    """What every entry of one add carries besides its address."""

    reason: str
    note: str
    source: str  # where from: staff, api, paste, campaign 12 ... (set by the caller, not typed)
    created_by: str

    @classmethod
    def of(cls, values: Mapping[str, Any], source: str, created_by: str) -> _Labels:
        return cls(
            values.get("reason", DEFAULT_REASON),
            values.get("note") or "",
            source[:SOURCE_MAX_LENGTH],
            created_by[:CREATED_BY_MAX_LENGTH],
        )


async def add_entry(
    session: AsyncSession, data: Mapping[str, Any], *, source: str = "", created_by: str = ""
) -> AddResult:
    """Suppress one address as a form or the API sent it (SuppressionCreate's fields). Idempotent: an
    address suppressed already keeps its entry (created=False)."""
    values = load(SuppressionCreate, data)
    labels = _Labels.of(values, source, created_by)
    email = values["email"]
    new_id = await queries.insert_one(session, email, labels.reason, labels.note, labels.source, labels.created_by)
    row = await queries.by_email(session, email)
    assert row is not None  # inserted now, or there before (rows are deleted only by remove())
    return AddResult(email, row, new_id is not None)


async def add(
    session: AsyncSession, email: Any, reason: Any, *, note: Any = "", source: str = "", created_by: str = ""
) -> AddResult:
    """Suppress one address (add_entry for callers holding the values)."""
    data = {"email": email, "reason": reason, "note": note}
    return await add_entry(session, data, source=source, created_by=created_by)


async def add_many(
    session: AsyncSession,
    emails: Iterable[Any],
    reason: Any,
    *,
    note: Any = "",
    source: str = "",
    created_by: str = "",
) -> int:
    """Suppress many addresses in one INSERT ... SELECT FROM unnest; returns how many were new.
    Entries that are not valid addresses are skipped: callers that need them reported use add_bulk
    or add_pasted."""
    labels = _Labels.of(load(SuppressionBulkIn, {"reason": reason, "note": note}, partial=True), source, created_by)
    return await _insert(session, [email for raw in emails if (email := _valid(raw)) is not None], labels)


async def add_bulk(
    session: AsyncSession, data: Mapping[str, Any], *, source: str = "", created_by: str = ""
) -> BulkReport:
    """The API's list of addresses (SuppressionBulkIn's fields): see _add_lines."""
    values = load(SuppressionBulkIn, data)
    return await _add_lines(session, values["emails"], _Labels.of(values, source, created_by))


async def add_pasted(
    session: AsyncSession, pasted: Any, reason: Any, *, note: Any = "", source: str = "paste", created_by: str = ""
) -> BulkReport:
    """Addresses pasted one per line (SuppressionPaste): see _add_lines."""
    values = load(SuppressionPaste, {"addresses": pasted, "reason": reason, "note": note})
    return await _add_lines(session, values["addresses"].splitlines(), _Labels.of(values, source, created_by))


async def _add_lines(session: AsyncSession, lines: Sequence[str], labels: _Labels) -> BulkReport:
    """Addresses one per line or separated by commas or semicolons (as a list's paste box takes
    them): the valid ones are suppressed in one statement; the others come back with their 1-based
    line number and why. Blank lines are skipped."""
    emails: list[str] = []
    report = BulkReport()
    for number, line in enumerate(lines, start=1):
        for raw in re.split(r"[,;]", line):
            if not raw.strip():
                continue
            try:
                emails.append(normalize_email(raw))
            except ValueError as exc:
                report.rejected.append(RejectedLine(number, raw.strip()[:REJECTED_TEXT_MAX_LENGTH], str(exc)))
    report.added = await _insert(session, emails, labels)
    report.already = len(emails) - report.added
    return report


async def _insert(session: AsyncSession, emails: Sequence[str], labels: _Labels) -> int:
    return await queries.insert_many(session, emails, labels.reason, labels.note, labels.source, labels.created_by)


async def get(session: AsyncSession, id_or_email: int | str) -> Suppression:
    """The entry by id or by address (any case; finds erased entries too)."""
    row = None
    if isinstance(id_or_email, int):
        row = await queries.by_id(session, id_or_email)
    elif (email := _valid(id_or_email)) is not None:
        row = await queries.by_email(session, email)
    if row is None:
        field_name = "email" if isinstance(id_or_email, str) else None
        raise NotFound(f"{id_or_email} is not on the suppression list.", field_name)
    return row


def _valid(email: Any) -> str | None:
    """The address as stored (normalised, so the same hash as when it was added); None when it is
    not an address, which is then never on the list (nothing invalid is stored)."""
    try:
        return normalize_email(email)
    except ValueError:
        return None


async def remove(session: AsyncSession, id_or_email: int | str, reason_for_removal: str | None, actor: str) -> Removed:
    """Take an address off the list; the reason (SuppressionRemoval) is required and goes to the audit log."""
    why: str = load(SuppressionRemoval, {} if reason_for_removal is None else {"reason": reason_for_removal})["reason"]
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


async def entries_among(session: AsyncSession, emails: Sequence[str]) -> dict[str, Entry]:
    """The entries (reason, since) of those of these addresses that are suppressed, by lower-cased
    address, in one query: for pages that show many contacts."""
    return await queries.entries_among(session, [v for e in emails if (v := _valid(e)) is not None])


def search_terms(q: Any, reason: Any) -> dict[str, str]:
    """An address prefix and a reason as a URL gave them, made harmless: an unknown reason is any."""
    prefix = q.strip()[:EMAIL_MAX_LENGTH].replace("\x00", "") if isinstance(q, str) else ""
    return {"q": prefix, "reason": reason if reason in REASONS else ""}


def is_cursor(cursor: str) -> bool:
    return decode_cursor(cursor) is not None


async def search(
    session: AsyncSession, q: Any = "", reason: Any = "", cursor: str | None = None, limit: int = 50
) -> SuppressionPage:
    """Newest first, keyset-paged. `q` is an address prefix; an unknown reason means any reason."""
    terms = search_terms(q, reason)
    cursor = cursor[:CURSOR_MAX_LENGTH] if isinstance(cursor, str) else None
    return await queries.find(session, q=terms["q"], reason=terms["reason"], cursor=cursor, limit=limit)


async def stats(session: AsyncSession) -> dict[str, int]:
    """Entries per reason, every reason present (0 when none), in the order of REASONS."""
    counts = await queries.counts_by_reason(session)
    return {reason: counts.get(reason, 0) for reason in REASONS}


async def suppress_bounced(session: AsyncSession, delivery_ids: Sequence[int]) -> int:
    """Hard bounces recorded by the send pipeline: their addresses get reason 'bounce', set-based."""
    return await queries.insert_bounced(session, delivery_ids)
