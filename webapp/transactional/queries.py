"""The SQL of transactional messages: the request rows (found again by a client's idempotency key),
the hidden campaign of each template (made on its first message, its content kept as the template's),
the message's delivery, and reading them back for the API and the staff page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# How a transactional message is built (delivery/campaign_message.py): tracked, with the sender's
# name and address in the footer, but no unsubscribe link and no List-Unsubscribe or List-Id: the
# recipient asked for this one message, no list sends it (README: Transactional messages).
TX_CAMPAIGN_SETTINGS = {
    "track_opens": True,
    "track_clicks": True,
    "unsubscribe_link": False,
    "suppress_duplicates": False,
    "list_headers": False,
}

TX_CAMPAIGN = text("SELECT campaign_id FROM tx_campaigns WHERE template_id = :template_id")

# Whoever makes a template's campaign first holds the template's row, so two first messages make one.
LOCK_TEMPLATE = text("SELECT id FROM email_templates WHERE id = :template_id FOR UPDATE")

# Status `sent`: the campaign machinery never starts, pauses or completes it (as automation emails' campaigns).
CREATE_TX_CAMPAIGN = text("""
WITH made AS (
  INSERT INTO campaigns (name, subject, template_id, html_content, text_content, settings, status, created_by,
                         materialised_at, kind)
  SELECT left('Transactional · ' || t.name, 200), t.subject, t.id, t.html_content, t.text_content,
         CAST(:settings AS jsonb), 'sent', 'transactional', now(), 'transactional'
  FROM email_templates t WHERE t.id = :template_id
  RETURNING id, template_id
)
INSERT INTO tx_campaigns (template_id, campaign_id) SELECT template_id, id FROM made RETURNING campaign_id
""")

# Each message goes as the template is now: an edit reaches the next message, not the ones sent.
REFRESH_CONTENT = text("""
UPDATE campaigns c SET subject = t.subject, html_content = t.html_content, text_content = t.text_content,
                       updated_at = now()
FROM email_templates t
WHERE c.id = :campaign_id AND t.id = :template_id
  AND (c.subject, c.html_content, c.text_content) IS DISTINCT FROM (t.subject, t.html_content, t.text_content)
""")

INSERT_MESSAGE = text("""
INSERT INTO tx_messages (api_key_id, idempotency_key, request_hash, template_id, data)
VALUES (:api_key_id, :idempotency_key, :request_hash, :template_id, CAST(:data AS jsonb))
ON CONFLICT ON CONSTRAINT uq_tx_messages_api_key_idempotency_key DO NOTHING
RETURNING id
""")

BY_KEY = text("""
SELECT id, request_hash FROM tx_messages WHERE api_key_id = :api_key_id AND idempotency_key = :idempotency_key
""")

QUEUE = text("""
WITH queued AS (
  INSERT INTO deliveries (campaign_id, contact_id, email, tx_message_id)
  VALUES (:campaign_id, :contact_id, :email, :tx_message_id)
  RETURNING id
), counted AS (
  UPDATE campaigns SET total_recipients = total_recipients + 1, updated_at = now() WHERE id = :campaign_id
)
SELECT id FROM queued
""")

MESSAGE_COLUMNS = """
SELECT m.id, m.template_id, d.email AS to, d.status, d.error_message AS error, m.idempotency_key, m.created_at,
       d.sent_at, d.opened_at, d.clicked_at, d.id AS delivery_id
FROM tx_messages m JOIN deliveries d ON d.tx_message_id = m.id
"""
MESSAGE = text(MESSAGE_COLUMNS + "WHERE m.id = :id")

# A template's messages, newest first, keyset on id (reads ix_tx_messages_template_id_id).
TEMPLATE_MESSAGES = text(
    MESSAGE_COLUMNS
    + """WHERE m.template_id = :template_id AND (CAST(:before AS bigint) IS NULL OR m.id < :before)
ORDER BY m.id DESC LIMIT :limit"""
)

# Each template's figures are its transactional campaign's counters (kept as campaign mail's are);
# the messages not finished yet are counted from its deliveries (ix_deliveries_campaign_status).
TEMPLATES = text("""
SELECT t.id AS template_id, t.name, c.total_recipients AS messages, c.sent_count AS sent,
       c.opened_count AS opened, c.clicked_count AS clicked, c.bounced_count AS bounced,
       c.complained_count AS complained, c.failed_count AS failed, c.skipped_count AS skipped,
       (SELECT count(*) FROM deliveries d
        WHERE d.campaign_id = c.id AND d.status IN ('pending', 'sending', 'handing')) AS waiting,
       (SELECT count(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'in_doubt') AS in_doubt,
       (SELECT max(m.id) FROM tx_messages m WHERE m.template_id = t.id) AS last_id,
       c.updated_at AS last_activity
FROM tx_campaigns x JOIN email_templates t ON t.id = x.template_id JOIN campaigns c ON c.id = x.campaign_id
ORDER BY last_id DESC NULLS LAST, t.name
""")


@dataclass(frozen=True)
class Message:
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
    delivery_id: int


@dataclass(frozen=True)
class TemplateFigures:
    template_id: int
    name: str
    messages: int
    sent: int
    opened: int
    clicked: int
    bounced: int
    complained: int
    failed: int
    skipped: int
    waiting: int  # pending, being sent or handed over
    in_doubt: int  # handed over when the connection broke: never sent again
    last_id: int | None
    last_activity: datetime


async def tx_campaign(session: AsyncSession, template_id: int) -> int:
    """The template's transactional campaign, made now if it has none, with the template's content."""
    campaign_id: int | None = await session.scalar(TX_CAMPAIGN, {"template_id": template_id})
    if campaign_id is None:
        await session.execute(LOCK_TEMPLATE, {"template_id": template_id})
        campaign_id = await session.scalar(TX_CAMPAIGN, {"template_id": template_id})
    if campaign_id is None:
        values = {"template_id": template_id, "settings": json.dumps(TX_CAMPAIGN_SETTINGS)}
        made: int = (await session.execute(CREATE_TX_CAMPAIGN, values)).scalar_one()
        return made
    await session.execute(REFRESH_CONTENT, {"campaign_id": campaign_id, "template_id": template_id})
    return campaign_id


async def insert_message(
    session: AsyncSession,
    *,
    api_key_id: int | None,
    idempotency_key: str | None,
    request_hash: str,
    template_id: int,
    data: dict[str, Any],
) -> int | None:
    """The new request's id; None when this key's request exists already."""
    values = {
        "api_key_id": api_key_id,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "template_id": template_id,
        "data": json.dumps(data),
    }
    inserted: int | None = await session.scalar(INSERT_MESSAGE, values)
    return inserted


async def by_key(session: AsyncSession, api_key_id: int, idempotency_key: str) -> tuple[int, str] | None:
    """(id, request hash) of the request this API key sent with this idempotency key, if any."""
    row = (await session.execute(BY_KEY, {"api_key_id": api_key_id, "idempotency_key": idempotency_key})).first()
    return None if row is None else (row.id, row.request_hash)


async def queue(
    session: AsyncSession, *, campaign_id: int, tx_message_id: int, contact_id: int | None, email: str
) -> int:
    """The message's pending delivery (its id), counted on the campaign."""
    values = {"campaign_id": campaign_id, "tx_message_id": tx_message_id, "contact_id": contact_id, "email": email}
    delivery_id: int = (await session.execute(QUEUE, values)).scalar_one()
    return delivery_id


async def message(session: AsyncSession, tx_message_id: int) -> Message | None:
    row = (await session.execute(MESSAGE, {"id": tx_message_id})).first()
    return None if row is None else Message(*row)


async def template_messages(session: AsyncSession, template_id: int, before: int | None, limit: int) -> list[Message]:
    rows = await session.execute(TEMPLATE_MESSAGES, {"template_id": template_id, "before": before, "limit": limit})
    return [Message(*row) for row in rows]


async def templates(session: AsyncSession) -> list[TemplateFigures]:
    """Every template that has sent transactional messages, the latest to send first."""
    return [TemplateFigures(*row) for row in await session.execute(TEMPLATES)]
