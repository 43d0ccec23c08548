"""The SQL of sending automation emails: their deliveries (rows with an enrolment) are claimed
across campaigns, and each message is recorded as being handed over, in its own transaction, right
before its content goes to the SMTP server (`handing`). A worker that dies leaves its `sending`
rows to be claimed again (no server has them) and its `handing` rows in doubt: those are never
claimed again, but marked `in_doubt` once their lease has run out, so no message goes twice."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.delivery.queries import CLAIM_SQL, NOT_MAILABLE, Claimed

SCOPE = "d.enrolment_id IS NOT NULL"

CLAIM = text(CLAIM_SQL.format(scope=SCOPE))

# Messages whose worker died while handing them over: the server may have them. Reads
# ix_deliveries_automation_unfinished.
IN_DOUBT_SQL = """
UPDATE deliveries d
SET status = 'in_doubt', claimed_at = NULL, updated_at = now(),
    error_message = 'Not sent again: the worker stopped while handing it to the SMTP server, '
                    || 'which may have accepted it.'
WHERE {scope} AND d.status = 'handing' AND d.claimed_at < now() - make_interval(secs => :lease_seconds)
"""
IN_DOUBT = text(IN_DOUBT_SQL.format(scope=SCOPE))

# The last look before the content goes: a contact who opted out (or was suppressed, deleted...)
# since the claim is skipped, counted on the campaign. Only a row still `sending` changes, so of two
# workers holding the same row (a lease run out) only one hands it over.
HAND_OVER = text(f"""
WITH checked AS (
  SELECT d.id, {NOT_MAILABLE} AS not_mailable
  FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id
  WHERE d.id = :id AND d.status = 'sending'
  FOR UPDATE OF d
), changed AS (
  UPDATE deliveries d
  SET status = CASE WHEN k.not_mailable IS NULL THEN 'handing' ELSE 'skipped' END,
      claimed_at = CASE WHEN k.not_mailable IS NULL THEN now() END,
      error_message = CASE WHEN k.not_mailable IS NULL THEN d.error_message
                           ELSE 'Not sent: ' || k.not_mailable || '.' END,
      updated_at = now()
  FROM checked k WHERE d.id = k.id
  RETURNING d.status, d.campaign_id
), counted AS (
  UPDATE campaigns c SET skipped_count = c.skipped_count + 1, updated_at = now()
  FROM changed WHERE c.id = changed.campaign_id AND changed.status = 'skipped'
)
SELECT status FROM changed
""")

UNFINISHED = text(
    f"SELECT EXISTS (SELECT 1 FROM deliveries d WHERE {SCOPE} AND d.status IN ('pending', 'sending', 'handing'))"
)


async def claim(session: AsyncSession, limit: int, *, lease_seconds: int, salt: str, domain: str) -> list[Claimed]:
    """Due automation emails, each with its campaign; first, those left in doubt become in_doubt."""
    await session.execute(IN_DOUBT, {"lease_seconds": lease_seconds})
    result = await session.execute(
        CLAIM, {"limit": limit, "lease_seconds": lease_seconds, "salt": salt, "domain": domain}
    )
    return [Claimed(*row) for row in result.all()]


async def hand_over(session: AsyncSession, delivery_id: int) -> bool:
    """Record the message as being handed over; False when it may not go (any more)."""
    status: str | None = await session.scalar(HAND_OVER, {"id": delivery_id})
    return status == "handing"


async def unfinished(session: AsyncSession) -> bool:
    """Whether any automation email waits to be sent, is being sent, or is in doubt."""
    return bool(await session.scalar(UNFINISHED))
