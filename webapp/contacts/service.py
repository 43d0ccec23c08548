"""Contact rules: one address per contact (any case), bulk tagging and deletion, and the contacts
table's pages and counts for every feature that lists contacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.contacts.queries import filters as contact_filters
from webapp.contacts.queries import records, table
from webapp.contacts.queries.filters import decode_cursor
from webapp.contacts.queries.table import ContactPage
from webapp.contacts.schemas import ContactCreate, ContactFilter, ContactUpdate
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id, normalize_email, normalize_tags


def _duplicate(email: str, existing_id: int) -> Conflict:
    return Conflict(
        f"A contact with the address {email} already exists (contact #{existing_id}).", "email", existing_id
    )


async def check_email(session: AsyncSession, raw: Any, exclude_id: int | None = None) -> str:
    """The normalised address if it is valid and free; ValidationFailed or Conflict (naming the owner) if not."""
    try:
        email = normalize_email(raw)
    except ValueError as exc:
        raise ValidationFailed({"email": str(exc)}) from None
    exclude = exclude_id if exclude_id is not None and is_valid_id(exclude_id) else None
    if (existing := await records.id_by_email(session, email, exclude)) is not None:
        raise _duplicate(email, existing)
    return email


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id) if is_valid_id(contact_id) else None
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


async def create_contact(session: AsyncSession, data: Mapping[str, Any]) -> Contact:
    values = load(ContactCreate, data)
    if (existing := await records.id_by_email(session, values["email"])) is not None:
        raise _duplicate(values["email"], existing)
    contact = Contact(**values)
    session.add(contact)
    try:
        await session.flush()
    except IntegrityError:  # lost a race with a concurrent insert of the same address
        await session.rollback()
        existing = await records.id_by_email(session, values["email"])
        raise _duplicate(values["email"], existing or 0) from None
    await session.refresh(contact)
    return contact


async def update_contact(session: AsyncSession, contact_id: int, data: Mapping[str, Any]) -> Contact:
    contact = await get_contact(session, contact_id)
    values = load(ContactUpdate, data)
    if "email" in values and (existing := await records.id_by_email(session, values["email"], contact_id)) is not None:
        raise _duplicate(values["email"], existing)
    for name, value in values.items():
        setattr(contact, name, value)
    await session.flush()
    await session.refresh(contact)
    return contact


async def delete_contacts(session: AsyncSession, contact_ids: Sequence[int]) -> int:
    return await records.delete_many(session, contact_ids)


async def add_tag(session: AsyncSession, contact_ids: Sequence[int], raw_tag: str) -> int:
    return await records.add_tag(session, contact_ids, _one_tag(raw_tag))


async def remove_tag(session: AsyncSession, contact_ids: Sequence[int], raw_tag: str) -> int:
    return await records.remove_tag(session, contact_ids, _one_tag(raw_tag))


def _one_tag(raw_tag: str) -> str:
    try:
        tags = normalize_tags([raw_tag or ""])
    except ValueError as exc:
        raise ValidationFailed({"tag": str(exc)}) from None
    if not tags:
        raise ValidationFailed({"tag": "Enter a tag."})
    return tags[0]


async def page(
    session: AsyncSession,
    filters: ContactFilter,
    *,
    sort: str = "newest",
    cursor: str | None = None,
    limit: int = 50,
) -> ContactPage:
    """One keyset page of the contacts matching `filters` (see queries/table.py for how)."""
    return await table.page(session, filters, sort=sort, cursor=cursor, limit=limit)


async def count(session: AsyncSession, filters: ContactFilter, known: ContactPage | None = None) -> tuple[int, bool]:
    """(how many contacts match, whether that is exact rather than the planner's estimate)."""
    return await table.estimate_count(session, filters, known)


def is_cursor(cursor: str, sort: str) -> bool:
    return decode_cursor(cursor, sort) is not None


def matching(filters: ContactFilter) -> ColumnElement[bool] | None:
    """The filters as one SQL predicate over contacts, for other features' queries (None: no filter)."""
    return contact_filters.condition(filters)
