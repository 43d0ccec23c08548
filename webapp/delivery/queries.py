"""The send pipeline's SQL: claim batches, record outcomes, what is left; the links a campaign
tracks, the contacts a batch is personalised for, and the SMTP servers' last errors. All set-based.

Crash safety comes from the claim: a row is `sending` while a worker holds it, and its lease
(claimed_at) runs out if that worker dies, so another worker claims it again. A row becomes `sent`
only in record_outcomes(), after the SMTP server accepted it. Nobody is skipped; duplicates are
bounded by the rows that were in flight when a worker died.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Link
from webapp.contacts.models import Contact
from webapp.settings.models import SmtpServer

MAX_ERROR_LENGTH = 2000  # of a delivery's error message, as stored
MAX_SERVER_ERROR_LENGTH = 1000  # of an SMTP server's last error, as shown to admins

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

# Seconds until the earliest retry is due, by the database's clock (which set it).
REMAINING = text("""
SELECT count(*) AS remaining,
       extract(epoch FROM min(next_attempt_at) FILTER (WHERE status = 'pending') - now()) AS retry_in
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
            "errors": [o.error[:MAX_ERROR_LENGTH] for o in outcomes],
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


async def remaining(session: AsyncSession, campaign_id: int) -> tuple[int, float | None]:
    """(unfinished rows, seconds until the earliest retry is due or None) for a campaign."""
    row = (await session.execute(REMAINING, {"campaign_id": campaign_id})).one()
    return row.remaining, None if row.retry_in is None else float(row.retry_in)


async def contacts_by_id(session: AsyncSession, contact_ids: Collection[int]) -> dict[int, Contact]:
    """The contacts a batch is personalised for."""
    return {c.id: c for c in await session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}


async def register_links(session: AsyncSession, campaign_id: int, urls: list[str]) -> dict[str, int]:
    """Every tracked URL of a campaign with its link id, the new ones stored first. Safe to run
    twice and in many workers at once: the unique (campaign, url) keeps one row per link."""
    if urls:
        await session.execute(
            text("""INSERT INTO links (campaign_id, url) SELECT :c, u FROM unnest(CAST(:urls AS text[])) AS u
                    ON CONFLICT ON CONSTRAINT uq_links_campaign_url DO NOTHING"""),
            {"c": campaign_id, "urls": urls},
        )
    rows = await session.execute(select(Link.url, Link.id).where(Link.campaign_id == campaign_id))
    return dict(rows.tuples().all())


async def record_server_errors(session: AsyncSession, errors: dict[int, str]) -> None:
    """Each server's latest error, for admins to see on the SMTP servers page."""
    for server_id, error in errors.items():
        await session.execute(
            update(SmtpServer)
            .where(SmtpServer.id == server_id)
            .values(last_error=error[:MAX_SERVER_ERROR_LENGTH], last_error_at=func.now())
            .execution_options(synchronize_session=False)
        )
