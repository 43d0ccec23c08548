"""List rules: names unique case-insensitively, members only on static lists, and addresses pasted
to a list becoming contacts and members in two statements."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import triggers
from webapp.core.config import get_settings
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id, normalize_email
from webapp.lists.models import EmailList, ListType
from webapp.lists.queries import lists as queries
from webapp.lists.queries import members
from webapp.lists.queries.lists import ListPage
from webapp.lists.schemas.lists import NAME_MAX, ListCreate, ListUpdate, PastedAddresses
from webapp.lists.service.segments import check_segment, refresh_count

MAX_PASTED_ADDRESSES = 10_000
REJECTED_TEXT_MAX = 200  # how much of a line that is not an address the report repeats


async def get_list(session: AsyncSession, list_id: int) -> EmailList:
    email_list = await session.get(EmailList, list_id) if is_valid_id(list_id) else None
    if email_list is None:
        raise NotFound(f"List {list_id} does not exist.")
    return email_list


async def get_static_list(session: AsyncSession, list_id: int) -> EmailList:
    email_list = await get_list(session, list_id)
    if email_list.list_type != ListType.STATIC.value:
        raise Conflict(
            f"List '{email_list.name}' is {email_list.list_type}; members are added to static lists only.", "list_type"
        )
    return email_list


async def _check_name_free(session: AsyncSession, name: str, exclude_id: int | None = None) -> None:
    if (existing := await queries.id_by_name(session, name, exclude_id)) is not None:
        raise Conflict(f"A list named '{name}' already exists (list #{existing}).", "name")


async def create_list(session: AsyncSession, data: Mapping[str, Any], created_by: str) -> EmailList:
    values = load(ListCreate, data)
    values.setdefault("list_type", ListType.STATIC.value)
    await _check_name_free(session, values["name"])
    await check_segment(session, values, None)
    email_list = EmailList(**values, created_by=created_by)
    session.add(email_list)
    await session.flush()
    await session.refresh(email_list)
    # A segment too slow to count is saved all the same, with the figure it had.
    await refresh_count(session, email_list, get_settings().segments.count_seconds)
    return email_list


async def non_openers(session: AsyncSession, campaign_id: int, campaign_name: str, created_by: str) -> EmailList:
    """The dynamic segment of those a campaign reached who did not open it: made once per campaign
    (named after it), then found by that name."""
    name = f"Did not open #{campaign_id}: {campaign_name}"[:NAME_MAX]
    if (existing_id := await queries.id_by_name(session, name)) is not None:
        existing = await get_list(session, existing_id)
        if existing.list_type == ListType.DYNAMIC.value:
            return existing
        name = f"{name[: NAME_MAX - 10]} (segment)"  # a list of that name that is no segment is kept as it is
    rule = {"field": "engagement", "op": "not_opened", "value": campaign_id}
    data = {"name": name, "list_type": ListType.DYNAMIC.value, "rules": {"operator": "AND", "conditions": [rule]}}
    return await create_list(session, data, created_by)


async def update_list(session: AsyncSession, list_id: int, data: Mapping[str, Any]) -> EmailList:
    email_list = await get_list(session, list_id)
    values = load(ListUpdate, data, partial=True)
    if "name" in values:
        await _check_name_free(session, values["name"], list_id)
    await check_segment(session, values, email_list)
    for name, value in values.items():
        setattr(email_list, name, value)
    await session.flush()
    await session.refresh(email_list)
    await refresh_count(session, email_list, get_settings().segments.count_seconds)
    return email_list


async def delete_list(session: AsyncSession, list_id: int) -> None:
    """Conflict while segments are made of it: they would lose the contacts they choose from."""
    email_list = await get_list(session, list_id)
    if children := await queries.segments_of(session, list_id):
        names = ", ".join(f"'{segment.name}'" for segment in children)
        raise Conflict(
            f"Segments are made of this list: {names}. Delete them first, or archive the list instead.", "list_id"
        )
    await session.delete(email_list)
    await session.flush()


async def find_lists(
    session: AsyncSession,
    *,
    list_type: str | None = None,
    created_by: str | None = None,
    is_active: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ListPage:
    """Lists by name, filtered by what is given (every filter must hold), the page after `cursor`."""
    return await queries.find_lists(
        session, list_type=list_type, created_by=created_by, is_active=is_active, limit=limit, cursor=cursor
    )


def is_cursor(cursor: str) -> bool:
    return queries.is_cursor(cursor)


async def all_lists(session: AsyncSession, *, active_only: bool = False) -> list[EmailList]:
    return await queries.all_lists(session, active_only=active_only)


async def count_active(session: AsyncSession) -> int:
    return await queries.count_active(session)


async def segments_of(session: AsyncSession, list_id: int) -> list[EmailList]:
    return await queries.segments_of(session, list_id)


async def lists_of_contact(session: AsyncSession, contact_id: int) -> list[EmailList]:
    return await queries.lists_of_contact(session, contact_id)


async def add_members(session: AsyncSession, list_id: int, contacts: Sequence[int] | ColumnElement[bool]) -> int:
    """Add contacts (ids, or a predicate over contacts) to a static list; returns how many were not on it before."""
    await get_static_list(session, list_id)
    return await _joined(session, list_id, await members.add(session, list_id, contacts))


async def _joined(session: AsyncSession, list_id: int, contact_ids: list[int]) -> int:
    """Automations that start when someone joins this list take the contacts that joined; how many joined."""
    await triggers.signal(session, "list_joined", contact_ids, list_id=list_id)
    return len(contact_ids)


async def remove_members(session: AsyncSession, list_id: int, contact_ids: Sequence[int]) -> int:
    await get_list(session, list_id)
    return await members.remove(session, list_id, contact_ids)


# ---- addresses pasted into a list's page ----------------------------------------------------


@dataclass(frozen=True)
class RejectedAddress:
    line: int
    text: str
    reason: str


@dataclass
class PasteReport:
    added: int = 0  # contacts that are on the list now and were not before
    created: int = 0  # of those, contacts that did not exist before
    already: int = 0  # valid addresses that were on the list already
    rejected: list[RejectedAddress] = field(default_factory=list)


def parse_addresses(pasted: str) -> tuple[list[str], list[RejectedAddress]]:
    """Addresses one per line or separated by commas/semicolons: normalised, de-duplicated
    case-insensitively; the ones that are not addresses come back with their line and the reason."""
    found: dict[str, str] = {}
    rejected: list[RejectedAddress] = []
    for number, line in enumerate(pasted.splitlines(), start=1):
        for item in re.split(r"[,;]", line):
            if not (item := item.strip()):
                continue
            if len(found) + len(rejected) >= MAX_PASTED_ADDRESSES:
                raise ValidationFailed({"addresses": f"Paste at most {MAX_PASTED_ADDRESSES:,} addresses at a time."})
            try:
                email = normalize_email(item)
            except ValueError as exc:
                rejected.append(RejectedAddress(number, item[:REJECTED_TEXT_MAX], str(exc)))
            else:
                found.setdefault(email.lower(), email)
    return list(found.values()), rejected


async def add_by_email(session: AsyncSession, list_id: int, data: Mapping[str, Any]) -> PasteReport:
    """Add pasted addresses (PastedAddresses) to a static list: unknown addresses become contacts,
    then every valid address joins the list."""
    email_list = await get_static_list(session, list_id)
    emails, rejected = parse_addresses(load(PastedAddresses, data)["addresses"])
    report = PasteReport(rejected=rejected)
    if emails:
        report.created = await members.create_contacts(session, emails)
        report.added = await _joined(session, list_id, await members.add_by_email(session, list_id, emails))
        report.already = len(emails) - report.added
    await session.refresh(email_list)  # contact_count is kept by a trigger
    return report
