"""The dev outbox: mail caught by the capture SMTP server, stored whole and shown to staff."""

from __future__ import annotations

import dataclasses
import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import MIMEPart
from email.parser import BytesParser
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import NotFound
from webapp.core.tokens import CLICK_TOKEN_COUNTS, read_token
from webapp.core.validation import is_valid_id
from webapp.outbox import queries
from webapp.outbox.models import ADDRESS_LENGTH, MESSAGE_ID_LENGTH, OutboxMessage
from webapp.outbox.queries import Summary

PAGE_SIZE = 50
# Enough of a subject and of the recipient list to show; the raw message keeps them whole.
MAX_SUBJECT_LENGTH, MAX_RECIPIENTS_LENGTH = 2000, 100_000
MAX_SEARCH_LENGTH = 200
_parser = BytesParser(policy=email.policy.default)
# The open pixel and tracked links that delivery/campaign_message.py puts into campaign mail.
TRACKING_URL = re.compile(r"""https?://[^\s"'<>]*?/u/(?:o/(?P<open>[\w-]+\.[\w-]+)\.gif|c/(?P<click>[\w-]+\.[\w-]+))""")
BLANK_PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


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


async def staff_view(session: AsyncSession, raw: bytes) -> MessageView:
    """The message as staff look at it, so that looking counts no open and no click: the open pixel
    becomes a blank image in its place, and tracked links lead straight to their destinations
    (stored from the HTML's own href values, so they hold no quote or angle bracket)."""
    shown = view(raw)
    if shown.html is None:
        return shown
    tokens = [m["click"] for m in TRACKING_URL.finditer(shown.html) if m["click"]]
    clicks = {token: read_token("click", token, *CLICK_TOKEN_COUNTS) for token in tokens}
    destinations = await queries.link_urls(session, {numbers[1] for numbers in clicks.values() if numbers})

    def untracked(match: re.Match[str]) -> str:
        if match["open"]:
            return BLANK_PIXEL
        numbers = clicks[match["click"]]
        return destinations.get(numbers[1], match[0]) if numbers else match[0]

    return dataclasses.replace(shown, html=TRACKING_URL.sub(untracked, shown.html))
