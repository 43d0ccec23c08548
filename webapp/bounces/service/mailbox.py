"""The bounce mailbox's settings, as admins save them on Settings → Bounce mailbox: the bounce
address (each message's return path is made from it, see core/verp.py) and the mailbox that
receives what comes back. The password is stored encrypted (core/secret_box.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.bounces.schemas import BounceMailboxInput
from webapp.core import secret_box
from webapp.core.addresses import literal_refusal
from webapp.core.errors import ValidationFailed
from webapp.core.schemas import load as load_input
from webapp.settings.service import stored

KEY = "bounce_mailbox"
REFUSED = "the bounce mailbox may only be on a private network when “Allow a private address” is ticked."


@dataclass(frozen=True)
class MailboxSettings:
    bounce_address: str = ""  # empty: messages go out with the sender's address as return path
    protocol: str = "imap"  # imap | pop3
    host: str = ""
    port: int = 993
    tls_mode: str = "tls"  # tls | starttls | none
    username: str = ""
    password: str = ""  # decrypted when loaded; stored encrypted
    folder: str = "INBOX"  # IMAP only
    poll_minutes: int = 5  # 0: never polled
    delete_processed: bool = True
    allow_private: bool = False  # the host may be a private or loopback address

    @property
    def polled(self) -> bool:
        return bool(self.host and self.username and self.poll_minutes)


async def load(session: AsyncSession) -> MailboxSettings:
    saved = await stored.load(session, KEY)
    encrypted = saved.pop("password_encrypted", "")
    known = MailboxSettings.__dataclass_fields__
    values = {name: value for name, value in saved.items() if name in known}
    return MailboxSettings(**values, password=secret_box.decrypt(encrypted.encode()) if encrypted else "")


async def from_form(session: AsyncSession, data: Mapping[str, Any]) -> MailboxSettings:
    """The settings the form describes, not saved; ValidationFailed names every problem. A blank
    password stands for the saved one."""
    values = load_input(BounceMailboxInput, data)
    values.setdefault("delete_processed", False)
    values.setdefault("allow_private", False)
    if not values.get("password"):
        values.pop("password", None)
    values["folder"] = values.get("folder") or MailboxSettings.folder
    return replace(await load(session), **values)


async def update(session: AsyncSession, data: Mapping[str, Any]) -> MailboxSettings:
    """Save the form as sent (see from_form), unless its host is an address it may not reach."""
    settings = await from_form(session, data)
    if why := literal_refusal(settings.host, allow_private=settings.allow_private, refused=REFUSED):
        raise ValidationFailed({"host": why})
    document = asdict(settings)
    password = document.pop("password")
    document["password_encrypted"] = secret_box.encrypt(password).decode() if password else ""
    await stored.save(session, KEY, document)
    return settings


async def bounce_address(session: AsyncSession) -> str:
    """The address return paths are made from, or "" when none is configured (read for every batch
    the send engine claims, so the password is not decrypted for it)."""
    return str((await stored.load(session, KEY)).get("bounce_address") or "")
