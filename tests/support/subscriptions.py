"""Arrange public lists and read what the public sign-up left behind (database and Redis)."""

from __future__ import annotations

import asyncio
import email.message
import re
import time
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.lists.models import EmailList


async def public_list(
    session: AsyncSession,
    name: str = "Newsletter",
    *,
    double_opt_in: bool = True,
    consent_text: str = "",
    is_public: bool = True,
    is_active: bool = True,
) -> SimpleNamespace:
    """A committed list; returned as plain values, which later commits do not expire."""
    email_list = EmailList(
        name=name,
        description=f"All about {name}.",
        is_public=is_public,
        double_opt_in=double_opt_in,
        consent_text=consent_text,
        is_active=is_active,
    )
    session.add(email_list)
    await session.flush()
    snapshot = SimpleNamespace(id=email_list.id, name=name)
    await session.commit()
    return snapshot


async def subscription_rows(session: AsyncSession) -> list[dict]:
    session.expire_all()
    rows = await session.execute(
        text("""
        SELECT s.id, c.email, s.list_id, s.status, s.source, s.ip_address, s.user_agent, s.consent_text,
               s.created_at, s.confirmed_at, s.unsubscribed_at, c.status AS contact_status
        FROM subscriptions s JOIN contacts c ON c.id = s.contact_id ORDER BY s.id""")
    )
    return [dict(r._mapping) for r in rows]


async def members(session: AsyncSession, list_id: int) -> list[str]:
    rows = await session.scalars(
        text("""SELECT c.email FROM list_members m JOIN contacts c ON c.id = m.contact_id
                                         WHERE m.list_id = :l ORDER BY c.email"""),
        {"l": list_id},
    )
    return list(rows)


async def queued_confirmations(redis) -> int:
    """Messages to subscribers waiting in the worker queue, confirmations and data links (Dramatiq's
    Redis broker keeps them in a hash)."""
    return await redis.hlen("mailroom:subscriptions.msgs")


def text_part(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def confirm_link(message: email.message.EmailMessage) -> str:
    return re.search(r"https?://\S+/subscribe/confirm/[\w.\-]+", text_part(message)).group(0)


async def wait_for_messages(sink, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(sink.messages)} of {count} messages arrived in {timeout}s")
        await asyncio.sleep(0.1)
    return list(sink.messages)
