"""The send pipeline's SQL: materialise recipients, claim batches, record outcomes. All set-based.

Crash safety comes from the claim: a row is `sending` while a worker holds it, and its lease
(claimed_at) runs out if that worker dies, so another worker claims it again. A row becomes `sent`
only in record_outcomes(), after the SMTP server accepted it. Nobody is skipped; duplicates are
bounded by the rows that were in flight when a worker died.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Delivery
from webapp.contacts.models import Contact

CLAIM = text("""
WITH picked AS (
  SELECT id FROM deliveries
  WHERE campaign_id = :campaign_id
    AND status IN ('pending', 'sending')
    AND ((status = 'pending' AND next_attempt_at <= now())
         OR (status = 'sending' AND claimed_at < now() - make_interval(secs => :lease_seconds)))
  ORDER BY id
  LIMIT :limit
  FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d
SET status = 'sending', claimed_at = now(), attempts = d.attempts + 1,
    message_id = coalesce(d.message_id,
                          format('<%s.%s.%s@%s>', d.id, d.campaign_id, CAST(:salt AS text), CAST(:domain AS text)))
FROM picked
WHERE d.id = picked.id
RETURNING d.id, d.contact_id, d.email, d.message_id, d.attempts
""")

# Outcomes of one batch in one statement. Only rows still `sending` change, so a late worker
# whose lease ran out cannot overwrite what another worker recorded.
RECORD = text("""
UPDATE deliveries d
SET status = v.status,
    sent_at = CASE WHEN v.status = 'sent' THEN now() ELSE d.sent_at END,
    bounced_at = CASE WHEN v.bounced THEN now() ELSE d.bounced_at END,
    error_message = v.error,
    smtp_server_id = coalesce(v.server_id, d.smtp_server_id),
    next_attempt_at = now() + make_interval(secs => v.retry_seconds),
    claimed_at = NULL,
    updated_at = now()
FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:errors AS text[]),
            CAST(:retry_seconds AS int[]), CAST(:server_ids AS bigint[]), CAST(:bounced AS boolean[]))
     AS v(id, status, error, retry_seconds, server_id, bounced)
WHERE d.id = v.id AND d.status = 'sending'
RETURNING d.id, d.contact_id, d.status, v.bounced
""")

REMAINING = text("""
SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')) AS remaining,
       min(next_attempt_at) FILTER (WHERE status = 'pending') AS next_attempt_at
FROM deliveries WHERE campaign_id = :campaign_id AND status IN ('pending', 'sending')
""")


@dataclass(frozen=True)
class Claimed:
    id: int
    contact_id: int | None
    email: str
    message_id: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status: str  # 'sent', 'pending' (retry later) or 'failed'
    error: str = ""
    retry_seconds: int = 0
    server_id: int | None = None
    bounced: bool = False  # the server refused the recipient for good (5xx)
    throttled: bool = False  # held back by a sending limit: not a failure


async def materialise(session: AsyncSession, campaign_id: int, audience: ColumnElement[bool]) -> int:
    """Create the campaign's delivery rows in one INSERT ... SELECT; returns the recipient count.

    `audience` is a predicate over contacts (services/segments.audience_condition). Each contact has
    a unique address (case-insensitive) and a delivery is unique per (campaign, contact), so one
    address never gets a campaign twice, however many of the campaign's lists it is on."""
    recipients = (
        select(literal(campaign_id, BigInteger), Contact.id, Contact.email).where(audience).order_by(Contact.id)
    )
    await session.execute(
        insert(Delivery)
        .from_select(["campaign_id", "contact_id", "email"], recipients)
        .on_conflict_do_nothing(constraint="uq_deliveries_campaign_contact")
    )
    return await session.scalar(text("SELECT count(*) FROM deliveries WHERE campaign_id = :c"), {"c": campaign_id}) or 0


async def count_audience(session: AsyncSession, audience: ColumnElement[bool]) -> int:
    return await session.scalar(select(func.count()).select_from(Contact).where(audience)) or 0


async def claim(
    session: AsyncSession, campaign_id: int, limit: int, *, lease_seconds: int, salt: str, domain: str
) -> list[Claimed]:
    result = await session.execute(
        CLAIM,
        {"campaign_id": campaign_id, "limit": limit, "lease_seconds": lease_seconds, "salt": salt, "domain": domain},
    )
    return [Claimed(*row) for row in result.all()]


async def record_outcomes(session: AsyncSession, campaign_id: int, outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Store outcomes and bump the campaign and contact counters; returns counts by status."""
    if not outcomes:
        return {}
    result = await session.execute(
        RECORD,
        {
            "ids": [o.delivery_id for o in outcomes],
            "statuses": [o.status for o in outcomes],
            "errors": [o.error[:2000] for o in outcomes],
            "retry_seconds": [o.retry_seconds for o in outcomes],
            "server_ids": [o.server_id for o in outcomes],
            "bounced": [o.bounced for o in outcomes],
        },
    )
    rows = result.all()
    sent = [r.contact_id for r in rows if r.status == "sent" and r.contact_id is not None]
    failed = sum(1 for r in rows if r.status == "failed")
    bounced = [r.contact_id for r in rows if r.bounced and r.contact_id is not None]
    await session.execute(
        text("""UPDATE campaigns SET sent_count = sent_count + :sent, failed_count = failed_count + :failed,
                bounced_count = bounced_count + :bounced, updated_at = now() WHERE id = :c"""),
        {"sent": len(sent), "failed": failed, "bounced": len(bounced), "c": campaign_id},
    )
    if sent:
        await session.execute(
            text("UPDATE contacts SET emails_sent = emails_sent + 1 WHERE id = ANY(:ids)"), {"ids": sent}
        )
    if bounced:
        await session.execute(
            text(
                "UPDATE contacts SET status = 'bounced', last_updated = now() "
                "WHERE id = ANY(:ids) AND status = 'active'"
            ),
            {"ids": bounced},
        )
        await session.execute(
            text("""INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, detail)
                    SELECT d.id, d.campaign_id, d.contact_id, 'bounce', d.error_message
                    FROM deliveries d WHERE d.id = ANY(:ids)"""),
            {"ids": [r.id for r in rows if r.bounced]},
        )
    return {
        "sent": len(sent),
        "failed": failed,
        "bounced": len(bounced),
        "retry": sum(1 for r in rows if r.status == "pending"),
    }


async def remaining(session: AsyncSession, campaign_id: int):
    """(unfinished rows, earliest retry time) for a campaign."""
    row = (await session.execute(REMAINING, {"campaign_id": campaign_id})).one()
    return row.remaining, row.next_attempt_at


HISTORY = text("""
SELECT c.id AS campaign_id, c.name AS campaign, d.status, d.sent_at, d.opened_at, d.clicked_at,
       d.unsubscribed_at, d.error_message
FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
WHERE d.contact_id = :contact_id
ORDER BY d.id DESC
LIMIT :limit
""")


async def history_of_contact(session: AsyncSession, contact_id: int, limit: int = 50) -> list:
    """The contact's most recent campaign deliveries, newest first (uses ix_deliveries_contact_id)."""
    return list((await session.execute(HISTORY, {"contact_id": contact_id, "limit": limit})).all())
