"""The dev outbox: mail caught by the capture SMTP server, stored whole and shown to staff."""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import MIMEPart
from email.parser import BytesParser
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound
from webapp.core.validation import is_valid_id
from webapp.outbox import queries
from webapp.outbox.models import ADDRESS_LENGTH, MESSAGE_ID_LENGTH, OutboxMessage
from webapp.outbox.queries import Summary

PAGE_SIZE = 50
# Enough of a subject and of the recipient list to show; the raw message keeps them whole.
MAX_SUBJECT_LENGTH, MAX_RECIPIENTS_LENGTH = 2000, 100_000
MAX_SEARCH_LENGTH = 200
_parser = BytesParser(policy=email.policy.default)


def _clean(value: Any, limit: int) -> str:
    return str(value or "").replace("\x00", "")[:limit]  # PostgreSQL text cannot hold NUL


async def store(session: AsyncSession, mail_from: str, recipients: Sequence[str], raw: bytes) -> OutboxMessage:
    headers = _parser.parsebytes(raw, headersonly=True)
    message = OutboxMessage(
        mail_from=_clean(mail_from, ADDRESS_LENGTH),
        rcpt_to=_clean(", ".join(recipients), MAX_RECIPIENTS_LENGTH),
        subject=_clean(headers.get("subject"), MAX_SUBJECT_LENGTH),
        message_id=_clean(headers.get("message-id"), MESSAGE_ID_LENGTH),
        raw=raw,
    )
    session.add(message)
    await session.flush()
    return message


@dataclass(frozen=True)
class OutboxPage:
    messages: Sequence[Summary]  # without the raw bytes
    older_than: int | None  # id for the next (older) page, None on the last page


def search_text(raw: str | None) -> str:
    """What the search box sent, as something to look for: trimmed, no NUL, at most 200 characters."""
    return _clean(raw, MAX_SEARCH_LENGTH).strip()


async def page(session: AsyncSession, before: int | None = None, size: int = PAGE_SIZE, search: str = "") -> OutboxPage:
    """Newest first, keyset on id: `before` is the last id of the previous page; `search` (see
    search_text) keeps the messages whose recipients or subject contain it."""
    rows = await queries.newest(session, before if is_valid_id(before) else None, size + 1, search)
    return OutboxPage(rows[:size], rows[size - 1].id if len(rows) > size else None)


async def get_message(session: AsyncSession, message_id: int) -> OutboxMessage:
    message = await session.get(OutboxMessage, message_id) if is_valid_id(message_id) else None
    if message is None:
        raise NotFound("That message is not in the outbox (it may have been cleared).")
    return message


async def clear(session: AsyncSession) -> int:
    """Delete every captured message; how many there were."""
    return await queries.delete_all(session)


@dataclass(frozen=True)
class MessageView:
    headers: list[tuple[str, str]]
    html: str | None
    text: str | None


def _content(part: MIMEPart | None) -> str | None:
    if part is None:
        return None
    try:
        content: str = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken transfer encoding: show the bytes
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content.replace("\r\n", "\n")  # as sent on the wire; shown with plain line ends


def view(raw: bytes) -> MessageView:
    """Headers (decoded, folded lines joined), the HTML part and the text part of a stored message."""
    message = _parser.parsebytes(raw)
    headers = [(name, " ".join(str(value).split())) for name, value in message.items()]
    return MessageView(headers, _content(message.get_body(("html",))), _content(message.get_body(("plain",))))
