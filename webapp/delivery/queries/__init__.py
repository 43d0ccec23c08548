"""The send pipeline's SQL: claim batches (skipping contacts no longer mailable), record outcomes,
renew leases, what is left; the links a campaign tracks, the contacts a batch is personalised for,
the SMTP servers' and providers' last errors, and what the workers' watch listens to and reads. All set-based.

Crash safety comes from the claim: a row is `sending` while a worker holds it, and its lease
(claimed_at) runs out if that worker dies, so another worker claims it again. A row becomes `sent`
only in record_outcomes(), after the SMTP server accepted it. Nobody is skipped; duplicates are
bounded by the rows that were in flight when a worker died.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import BigInteger, Row, any_, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from webapp.analytics import service as analytics
from webapp.campaigns.models import Link
from webapp.contacts.models import Contact
from webapp.delivery.transports.base import TransportRef
from webapp.providers.models import Provider
from webapp.settings.models import SmtpServer
from webapp.suppression.models import EMAIL_HASH_SQL
from webapp.templates.service.rendering import CONTACT_VARIABLES

MAX_ERROR_LENGTH = 2000  # of a delivery's error message, as stored
MAX_SERVER_ERROR_LENGTH = 1000  # of an SMTP server's last error, as shown to admins

# Why a delivery's contact may no longer be mailed (NULL: it may): it unsubscribed, bounced,
# complained, was deactivated, deleted or erased, or its address was suppressed. Over `deliveries d
# LEFT JOIN contacts c`. A transactional message (POST /api/tx) may go to an address that is no
# contact, or to one whose sign-up awaits confirmation, but never to an opted-out or suppressed one.
NOT_MAILABLE = f"""
CASE WHEN d.email = '' OR (c.id IS NULL AND d.tx_message_id IS NULL) THEN 'the contact was deleted or erased'
     WHEN NOT c.is_active THEN 'the contact is inactive'
     WHEN c.status <> 'active' AND (d.tx_message_id IS NULL OR c.status <> 'pending')
       THEN 'the contact is ' || c.status
     WHEN EXISTS (SELECT 1 FROM suppressions s
                  WHERE s.email_hash = coalesce(c.email_hash, {EMAIL_HASH_SQL.format("d.email")}))
       THEN 'the address is on the suppression list'
END"""

# Rows due, oldest first, and in the same statement whether each contact may still be mailed: a
# contact no longer mailable since the send started is skipped (final) instead of claimed, and
# counted on its campaign. {scope}: which deliveries (one campaign's, or the automation emails').
# A campaign's caller holds the campaign's row lock (FOR NO KEY UPDATE), so the count cannot
# deadlock with another worker's claim.
CLAIM_SQL = f"""
WITH picked AS (
  SELECT d.id, {NOT_MAILABLE} AS not_mailable
  FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id
  WHERE {{scope}}
    AND d.status IN ('pending', 'sending')
    AND ((d.status = 'pending' AND d.next_attempt_at <= now())
         OR (d.status = 'sending' AND d.claimed_at < now() - make_interval(secs => :lease_seconds)))
  ORDER BY d.id
  LIMIT :limit
  FOR UPDATE OF d SKIP LOCKED
), changed AS (
  UPDATE deliveries d
  SET status = CASE WHEN p.not_mailable IS NULL THEN 'sending' ELSE 'skipped' END,
      claimed_at = CASE WHEN p.not_mailable IS NULL THEN now() END,
      attempts = d.attempts + CASE WHEN p.not_mailable IS NULL THEN 1 ELSE 0 END,
      error_message = CASE WHEN p.not_mailable IS NULL THEN d.error_message
                           ELSE 'Not sent: ' || p.not_mailable || '.' END,
      message_id = CASE WHEN p.not_mailable IS NULL
                        THEN coalesce(d.message_id, format('<%s.%s.%s@%s>', d.id, d.campaign_id,
                                                           CAST(:salt AS text), CAST(:domain AS text)))
                        ELSE d.message_id END,
      updated_at = now()
  FROM picked p
  WHERE d.id = p.id
  RETURNING d.id, d.contact_id, d.email, d.message_id, d.attempts, d.ab_variant_id, d.status, d.campaign_id
), counted AS (
  UPDATE campaigns SET skipped_count = skipped_count + s.n, updated_at = now()
  FROM (SELECT campaign_id, count(*) AS n FROM changed WHERE status = 'skipped' GROUP BY campaign_id) s
  WHERE id = s.campaign_id
)
SELECT id, contact_id, email, message_id, attempts, ab_variant_id, campaign_id
FROM changed WHERE status = 'sending' ORDER BY id
"""
CLAIM = text(CLAIM_SQL.format(scope="d.campaign_id = :campaign_id"))

# Outcomes of one batch in one statement. Only rows still `sending` (or `handing`: see
# queries/automation_mail.py) change, so a late worker whose lease ran out cannot overwrite what
# another worker recorded. A row given back unsent (`released`: its campaign stopped) is pending
# again without using up an attempt, or cancelled with its campaign; but one recorded as being
# handed over may have reached the server, so it is in doubt, never sent again. A message held back
# by a sending limit (throttled: a server's hour or day, a warm-up plan's day, a domain's throttle)
# was not tried either, so the wait uses up no attempt however many days it lasts. A provider may
# report a message delivered before its batch is recorded here (delivered_at is set then): sent
# means delivered for it.
RECORD = text("""
UPDATE deliveries d
SET status = CASE WHEN v.status = 'sent' AND d.delivered_at IS NOT NULL THEN 'delivered'
                  WHEN v.status = 'released' AND d.status = 'handing' THEN 'in_doubt'
                  WHEN v.status <> 'released' THEN v.status
                  WHEN c.status = 'cancelled' THEN 'cancelled' ELSE 'pending' END,
    attempts = d.attempts - CASE WHEN v.status = 'released' OR v.throttled THEN 1 ELSE 0 END,
    sent_at = CASE WHEN v.status = 'sent' THEN now() ELSE d.sent_at END,
    bounced_at = CASE WHEN v.bounced THEN now() ELSE d.bounced_at END,
    error_message = CASE WHEN v.status <> 'released' THEN v.error
                         WHEN c.status = 'cancelled' THEN :cancelled ELSE d.error_message END,
    smtp_server_id = coalesce(v.server_id, d.smtp_server_id),
    provider_id = coalesce(v.provider_id, d.provider_id),
    provider_message_id = coalesce(v.provider_message_id, d.provider_message_id),
    next_attempt_at = now() + make_interval(secs => v.retry_seconds),
    claimed_at = NULL,
    updated_at = now()
FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:errors AS text[]),
            CAST(:retry_seconds AS int[]), CAST(:server_ids AS bigint[]), CAST(:provider_ids AS bigint[]),
            CAST(:provider_message_ids AS text[]), CAST(:bounced AS boolean[]), CAST(:throttled AS boolean[]))
     AS v(id, status, error, retry_seconds, server_id, provider_id, provider_message_id, bounced, throttled),
     campaigns c
WHERE d.id = v.id AND d.status IN ('sending', 'handing') AND c.id = d.campaign_id
RETURNING d.id, d.contact_id, d.email, CASE WHEN v.status = 'sent' THEN 'sent' ELSE d.status END, v.bounced
""")

# Seconds until the earliest retry is due, by the database's clock (which set it).
REMAINING = text("""
SELECT count(*) AS remaining,
       extract(epoch FROM min(next_attempt_at) FILTER (WHERE status = 'pending') - now()) AS retry_in
FROM deliveries WHERE campaign_id = :campaign_id AND status IN ('pending', 'sending')
""")

# A batch still in flight keeps its claim (a slow per-second limit can make it outlast the lease).
# A row locked elsewhere is being recorded (its lease no longer matters): skipped, never waited for,
# since the batch's own record runs while its renewal does, and waiting could deadlock the two.
RENEW = text("""
UPDATE deliveries SET claimed_at = now()
WHERE id IN (SELECT id FROM deliveries WHERE id = ANY(CAST(:ids AS bigint[])) AND status IN ('sending', 'handing')
             ORDER BY id FOR UPDATE SKIP LOCKED)
""")

CAMPAIGN_STATUSES = text("SELECT id, status FROM campaigns WHERE id = ANY(CAST(:ids AS bigint[]))")


@dataclass(frozen=True)
class Claimed:
    id: int
    contact_id: int | None
    email: str
    message_id: str
    attempts: int
    ab_variant_id: int | None = None  # the A/B test's variant it is sent, if any
    campaign_id: int | None = None  # its campaign (the claim of one campaign's rows leaves it out)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    # 'sent', 'pending' (retry later), 'failed', 'released' (given back unsent) or 'in_doubt' (the
    # transfer broke off while the content went: never sent again)
    status: str
    error: str = ""
    retry_seconds: int = 0
    server_id: int | None = None  # the SMTP server that took it
    provider_id: int | None = None  # or the API provider
    provider_message_id: str | None = None  # the provider's id of the message it took
    bounced: bool = False  # the server refused the recipient's mailbox (a hard bounce)
    throttled: bool = False  # held back by a sending limit: not a failure
    unreachable: bool = False  # no server could be reached

    @property
    def failure(self) -> bool:
        """Counts towards pausing the campaign after too many failures in a row."""
        return self.status in ("pending", "failed") and not self.throttled


async def claim(
    session: AsyncSession, campaign_id: int, limit: int, *, lease_seconds: int, salt: str, domain: str
) -> list[Claimed]:
    result = await session.execute(
        CLAIM,
        {"campaign_id": campaign_id, "limit": limit, "lease_seconds": lease_seconds, "salt": salt, "domain": domain},
    )
    return [Claimed(*row) for row in result.all()]


@dataclass(frozen=True)
class Recorded:
    id: int
    contact_id: int | None
    email: str
    status: str  # as recorded: 'sent' also for a message a provider had already reported delivered
    bounced: bool


async def record_outcomes(
    session: AsyncSession, campaign_id: int, outcomes: Sequence[Outcome], *, cancelled_error: str
) -> list[Recorded]:
    """Store outcomes and bump the campaign and contact counters; the rows that changed.
    cancelled_error: the error of a delivery given back once its campaign was cancelled."""
    if not outcomes:
        return []
    result = await session.execute(
        RECORD,
        {
            "ids": [o.delivery_id for o in outcomes],
            "statuses": [o.status for o in outcomes],
            "errors": [o.error[:MAX_ERROR_LENGTH] for o in outcomes],
            "retry_seconds": [o.retry_seconds for o in outcomes],
            "server_ids": [o.server_id for o in outcomes],
            "provider_ids": [o.provider_id for o in outcomes],
            "provider_message_ids": [o.provider_message_id for o in outcomes],
            "bounced": [o.bounced for o in outcomes],
            "throttled": [o.throttled for o in outcomes],
            "cancelled": cancelled_error,
        },
    )
    rows = [Recorded(*row) for row in result.all()]
    sent = [r.contact_id for r in rows if r.status == "sent" and r.contact_id is not None]
    counts = {status: sum(1 for r in rows if r.status == status) for status in ("sent", "failed")}
    bounced = [r.id for r in rows if r.bounced]
    if counts["sent"] or counts["failed"]:
        await session.execute(
            text("""UPDATE campaigns SET sent_count = sent_count + :sent, failed_count = failed_count + :failed,
                    updated_at = now() WHERE id = :c"""),
            {**counts, "c": campaign_id},
        )
    if sent:
        await session.execute(COUNT_SENDS, {"ids": sent})
    await analytics.roll_up_sends(session, [r.id for r in rows if r.status == "sent"])
    if bounced:  # the bounce's effects (counter, contact, suppression): feedback.service.hard_bounced
        # An SMTP 5xx: a hard bounce (its detail does not start with "soft").
        bounce_events = await session.scalars(
            text("""INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, detail)
                    SELECT d.id, d.campaign_id, d.contact_id, 'bounce', d.error_message
                    FROM deliveries d WHERE d.id = ANY(:ids) RETURNING id"""),
            {"ids": bounced},
        )
        await analytics.roll_up_events(session, list(bounce_events))
    return rows


# Each contact's messages sent, added up per batch (a contact may have two messages in a batch of
# automation emails). The contacts are locked against deletion first: one deleted meanwhile is left
# out, where the foreign key would otherwise fail the batch's record.
COUNT_SENDS = text("""
INSERT INTO contact_sends (contact_id, emails_sent)
SELECT c.id, s.n
FROM (SELECT contact_id, count(*) AS n FROM unnest(CAST(:ids AS bigint[])) AS t(contact_id) GROUP BY contact_id) s
JOIN contacts c ON c.id = s.contact_id
ORDER BY c.id
FOR KEY SHARE OF c
ON CONFLICT (contact_id) DO UPDATE SET emails_sent = contact_sends.emails_sent + excluded.emails_sent
""")


async def renew(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    await session.execute(RENEW, {"ids": list(delivery_ids)})


async def listen(conn: AsyncConnection, channels: Sequence[str]) -> None:
    """Have PostgreSQL deliver these channels' notifications to this connection."""
    for channel in channels:
        await conn.execute(text(f'LISTEN "{channel}"'))


async def campaign_statuses(conn: AsyncConnection, campaign_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(id, status) of these campaigns."""
    rows = await conn.execute(CAMPAIGN_STATUSES, {"ids": list(campaign_ids)})
    return [(row.id, row.status) for row in rows]


async def remaining(session: AsyncSession, campaign_id: int) -> tuple[int, float | None]:
    """(unfinished rows, seconds until the earliest retry is due or None) for a campaign."""
    row = (await session.execute(REMAINING, {"campaign_id": campaign_id})).one()
    return row.remaining, None if row.retry_in is None else float(row.retry_in)


# What templates read of a contact (templates.service.rendering.contact_context), as plain rows:
# loading whole Contact objects took ~5 % of a send worker's time.
ContactFields: TypeAlias = Row[Any]
# language: of the words Mailroom adds around its links (campaign_message.message_words).
CONTACT_FIELDS = (
    Contact.id,
    Contact.custom_fields,
    Contact.language,
    *(getattr(Contact, name) for name in CONTACT_VARIABLES),
)


async def contacts_by_id(session: AsyncSession, contact_ids: Collection[int]) -> dict[int, ContactFields]:
    """The fields of the contacts a batch is personalised for. One array parameter, not an IN list
    of 500: psycopg re-parses a statement with more than 50 parameters every time."""
    ids = cast(list(contact_ids), ARRAY(BigInteger))
    return {row.id: row for row in await session.execute(select(*CONTACT_FIELDS).where(Contact.id == any_(ids)))}


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
    return dict(rows.all())


async def record_transport_errors(session: AsyncSession, errors: dict[TransportRef, str]) -> None:
    """Each SMTP server's and provider's latest error, for admins to see on their pages."""
    for ref, error in errors.items():
        table = SmtpServer if ref.kind == "smtp" else Provider
        await session.execute(
            update(table)
            .where(table.id == ref.id)
            .values(last_error=error[:MAX_SERVER_ERROR_LENGTH], last_error_at=func.now())
            .execution_options(synchronize_session=False)
        )
