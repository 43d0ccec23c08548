"""The SQL of sending transactional messages (deliveries with a tx_message_id): claimed one at a
time as each request comes (or all that are due, by the scheduler tick: retries, and requests whose
queue message was lost), handed over and left in doubt exactly as automation emails are
(queries/automation_mail.py), so no message goes twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.delivery.queries import CLAIM_SQL, Claimed
from webapp.delivery.queries.automation_mail import IN_DOUBT_SQL

SCOPE = "d.tx_message_id IS NOT NULL"

CLAIM_DUE = text(CLAIM_SQL.format(scope=SCOPE))
CLAIM_ONE = text(CLAIM_SQL.format(scope=f"{SCOPE} AND d.id = :delivery_id"))
IN_DOUBT = text(IN_DOUBT_SQL.format(scope=SCOPE))  # reads ix_deliveries_tx_unfinished

DATA = text("""
SELECT d.id, m.data FROM deliveries d JOIN tx_messages m ON m.id = d.tx_message_id
WHERE d.id = ANY(CAST(:ids AS bigint[]))
""")

# A message's data (a password reset link, an order's details) is kept only until it is sent or
# given up: a retry of the request is recognised by its hash, and the delivery keeps what was sent to whom.
FORGET_DATA = text("""
UPDATE tx_messages m SET data = '{}'
FROM deliveries d
WHERE d.id = ANY(CAST(:ids AS bigint[])) AND m.id = d.tx_message_id
  AND d.status NOT IN ('pending', 'sending', 'handing')
""")

UNFINISHED = text(
    f"SELECT EXISTS (SELECT 1 FROM deliveries d WHERE {SCOPE} AND d.status IN ('pending', 'sending', 'handing'))"
)


async def claim(
    session: AsyncSession,
    limit: int,
    *,
    lease_seconds: int,
    salt: str,
    domain: str,
    delivery_id: int | None = None,
) -> list[Claimed]:
    """This message if it is due (delivery_id), else every due one up to limit, each with its
    campaign; first, those left in doubt by a dead worker become in_doubt."""
    await session.execute(IN_DOUBT, {"lease_seconds": lease_seconds})
    values: dict[str, Any] = {"limit": limit, "lease_seconds": lease_seconds, "salt": salt, "domain": domain}
    if delivery_id is None:
        result = await session.execute(CLAIM_DUE, values)
    else:
        result = await session.execute(CLAIM_ONE, values | {"delivery_id": delivery_id})
    return [Claimed(*row) for row in result.all()]


async def data_of(session: AsyncSession, delivery_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The data each message's request sent, by delivery id."""
    rows = await session.execute(DATA, {"ids": list(delivery_ids)})
    return {row.id: row.data for row in rows}


async def forget_data(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    """Drop the data of these messages that are finished (sent, failed, skipped, in doubt ...)."""
    await session.execute(FORGET_DATA, {"ids": list(delivery_ids)})


async def unfinished(session: AsyncSession) -> bool:
    """Whether any transactional message waits to be sent, is being sent, or is being handed over."""
    return bool(await session.scalar(UNFINISHED))
