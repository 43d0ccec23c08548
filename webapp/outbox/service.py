"""The dev outbox: mail caught by the capture SMTP server, stored whole and shown to staff."""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound
from webapp.core.validation import is_valid_id
from webapp.settings.models import OutboxMessage

PAGE_SIZE = 50
_parser = BytesParser(policy=email.policy.default)


def _clean(value: Any, limit: int) -> str:
    return str(value or "").replace("\x00", "")[:limit]  # PostgreSQL text cannot hold NUL


async def store(session: AsyncSession, mail_from: str, recipients: Sequence[str], raw: bytes) -> OutboxMessage:
    headers = _parser.parsebytes(raw, headersonly=True)
    message = OutboxMessage(
        mail_from=_clean(mail_from, 320),
        rcpt_to=_clean(", ".join(recipients), 100_000),
        subject=_clean(headers.get("subject"), 2000),
        message_id=_clean(headers.get("message-id"), 255),
        raw=raw,
    )
    session.add(message)
    await session.flush()
    return message


@dataclass(frozen=True)
class OutboxPage:
    messages: list[Any]  # rows without the raw bytes
    older_than: int | None  # id for the next (older) page, None on the last page


async def page(session: AsyncSession, before: int | None = None, size: int = PAGE_SIZE) -> OutboxPage:
    """Newest first, keyset on id: `before` is the last id of the previous page."""
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.mail_from,
            OutboxMessage.rcpt_to,
            OutboxMessage.subject,
            OutboxMessage.received_at,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(size + 1)
    )
    if before is not None and is_valid_id(before):
        query = query.where(OutboxMessage.id < before)
    rows = list((await session.execute(query)).all())
    return OutboxPage(rows[:size], rows[size - 1].id if len(rows) > size else None)


async def get_message(session: AsyncSession, message_id: int) -> OutboxMessage:
    message = await session.get(OutboxMessage, message_id) if is_valid_id(message_id) else None
    if message is None:
        raise NotFound("That message is not in the outbox (it may have been cleared).")
    return message


async def clear(session: AsyncSession) -> int:
    result = await session.execute(delete(OutboxMessage))
    return result.rowcount or 0


@dataclass(frozen=True)
class MessageView:
    headers: list[tuple[str, str]]
    html: str | None
    text: str | None


def _content(part: EmailMessage | None) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken transfer encoding: show the bytes
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content.replace("\r\n", "\n")  # as sent on the wire; shown with plain line ends


def view(raw: bytes) -> MessageView:
    """Headers (decoded, folded lines joined), the HTML part and the text part of a stored message."""
    message: EmailMessage = _parser.parsebytes(raw)  # type: ignore[assignment]
    headers = [(name, " ".join(str(value).split())) for name, value in message.items()]
    return MessageView(headers, _content(message.get_body(("html",))), _content(message.get_body(("plain",))))
