"""Seed mailboxes admins register: the address a placement test sends a copy to, and the IMAP
mailbox behind it (the password kept encrypted, core/secret_box.py). Where the host leads is
checked before every connection (core/addresses.py): a private address only when allowed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.addresses import literal_refusal
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.core.validation import is_valid_id
from webapp.placement import queries
from webapp.placement.models import SeedMailbox
from webapp.placement.schemas import SeedMailboxInput
from webapp.placement.service.imap import REFUSED, ConnectionFailed, folders, open_seed

PASSWORD_MISSING = "Enter the mailbox's password."


async def list_seeds(session: AsyncSession, *, active_only: bool = False) -> list[SeedMailbox]:
    return await queries.seeds(session, active_only=active_only)


async def get_seed(session: AsyncSession, seed_id: int) -> SeedMailbox:
    seed = await session.get(SeedMailbox, seed_id) if is_valid_id(seed_id) else None
    if seed is None:
        raise NotFound("That seed mailbox does not exist (it may have been deleted).")
    return seed


def _columns(data: Mapping[str, Any], *, new: bool = False) -> Values:
    """The form's values as columns; a blank password is left out (it keeps the saved one), and
    refused for a new seed, which has none saved."""
    blank_password = new and not str(data.get("password") or "").strip()
    missing = {"password": PASSWORD_MISSING} if blank_password else {}
    try:
        values = load(SeedMailboxInput, data)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.errors | missing) from None
    if missing:
        raise ValidationFailed(missing)
    for name in ("is_active", "allow_private"):
        values.setdefault(name, False)  # a form sends a box only when it is ticked
    if why := literal_refusal(values["host"], allow_private=values["allow_private"], refused=REFUSED):
        raise ValidationFailed({"host": why})
    values.setdefault("spam_folder", "")
    password = values.pop("password", "")
    if password:
        values["password_encrypted"] = secret_box.encrypt(password)
    return values


async def create_seed(session: AsyncSession, data: Mapping[str, Any]) -> SeedMailbox:
    seed = SeedMailbox(**_columns(data, new=True))
    session.add(seed)
    await session.flush()
    return seed


async def update_seed(session: AsyncSession, seed_id: int, data: Mapping[str, Any]) -> SeedMailbox:
    seed = await get_seed(session, seed_id)
    for name, value in _columns(data).items():
        setattr(seed, name, value)
    await session.flush()
    return seed


async def delete_seed(session: AsyncSession, seed_id: int) -> None:
    """Its copies in past tests stay, with the seed's name and address as they were."""
    await session.delete(await get_seed(session, seed_id))
    await session.flush()


async def test_connection(session: AsyncSession, data: Mapping[str, Any], seed_id: int | None = None) -> list[str]:
    """The folders of the mailbox the form describes (a blank password: the saved seed's); raises
    ValidationFailed for a form with mistakes, ConnectionFailed when it cannot connect or sign in."""
    values = _columns(data)
    if "password_encrypted" not in values and seed_id is not None:
        values["password_encrypted"] = (await get_seed(session, seed_id)).password_encrypted
    seed = SeedMailbox(**values)
    if not seed.password_encrypted:
        raise ConnectionFailed(PASSWORD_MISSING)
    opened = await open_seed(seed)
    return await asyncio.to_thread(opened.run, folders)
