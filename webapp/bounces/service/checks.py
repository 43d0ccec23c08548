"""The settings page's "Test connection": connect with the form's values, sign in, and say how
many messages wait, or why that failed, in words staff can act on."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.bounces.service import mailbox
from webapp.bounces.service.connection import MailboxError, open_mailbox
from webapp.core.addresses import IPAddress, RefusedAddress, checked_address


class ConnectionFailed(Exception):
    """Why the mailbox could not be reached or signed in to."""


async def address_of(settings: mailbox.MailboxSettings) -> IPAddress:
    try:
        return await checked_address(
            settings.host, settings.port, allow_private=settings.allow_private, refused=mailbox.REFUSED
        )
    except RefusedAddress as exc:
        raise ConnectionFailed(str(exc)) from None


async def test_connection(session: AsyncSession, data: Mapping[str, Any]) -> int:
    """How many messages wait in the mailbox the form describes (its password blank: the saved
    one); raises ValidationFailed for a form with mistakes, ConnectionFailed when it cannot connect."""
    settings = await mailbox.from_form(session, data)
    if not settings.host:
        raise ConnectionFailed("Enter the mailbox's host first.")
    address = await address_of(settings)
    try:
        return await asyncio.to_thread(_waiting, settings, address)
    except MailboxError as exc:
        raise ConnectionFailed(str(exc)) from None


def _waiting(settings: mailbox.MailboxSettings, address: IPAddress) -> int:
    with open_mailbox(settings, address) as opened:
        return opened.waiting()
