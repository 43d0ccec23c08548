"""List rules: names unique case-insensitively, membership changes set-based."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, any_, delete, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.validation import bool_field, is_valid_id, normalize_email, normalize_tags, text_field
from webapp.lists.models import EmailList, ListMember, ListType
from webapp.lists.service.segments import SEGMENT_FIELDS, check_segment, refresh_count, validate_segment_fields
from webapp.lists.service.signup import SIGNUP_FIELDS, check_signup, validate_signup_fields

MAX_PASTED_ADDRESSES = 10_000


def validate_list(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if "name" in data or not partial:
        try:
            values["name"] = text_field(data.get("name"), "Name", 200)
            if not values["name"]:
                errors["name"] = "Enter a name for the list."
        except ValueError as exc:
            errors["name"] = str(exc)
    if "description" in data:
        try:
            values["description"] = text_field(data["description"], "Description", 2000)
        except ValueError as exc:
            errors["description"] = str(exc)
    if "tags" in data:
        try:
            values["tags"] = normalize_tags(data["tags"])
        except ValueError as exc:
            errors["tags"] = str(exc)
    if "is_active" in data:
        try:
            values["is_active"] = bool_field(data["is_active"], "Active")
        except ValueError as exc:
            errors["is_active"] = str(exc)
    if "list_type" in data:
        if isinstance(data["list_type"], str) and data["list_type"] in [t.value for t in ListType]:
            values["list_type"] = data["list_type"]
        else:
            errors["list_type"] = "List type must be one of: static, dynamic, segmented."
    errors |= validate_segment_fields(data, values)
    errors |= validate_signup_fields(data, values)
    unknown = set(data) - {"name", "description", "tags", "is_active", "list_type", *SEGMENT_FIELDS, *SIGNUP_FIELDS}
    for name in sorted(unknown):
        errors[name] = "Unknown field."
    if errors:
        raise ValidationFailed(errors)
    return values


async def get_list(session: AsyncSession, list_id: int) -> EmailList:
    email_list = await session.get(EmailList, list_id) if is_valid_id(list_id) else None
    if email_list is None:
        raise NotFound(f"List {list_id} does not exist.")
    return email_list


async def get_static_list(session: AsyncSession, list_id: int) -> EmailList:
    email_list = await get_list(session, list_id)
    if email_list.list_type != ListType.STATIC.value:
        raise Conflict(f"List '{email_list.name}' is {email_list.list_type}; members are added to static lists only.")
    return email_list


async def _check_name_free(session: AsyncSession, name: str, exclude_id: int | None = None) -> None:
    query = select(EmailList.id).where(func.lower(EmailList.name) == name.lower())
    if exclude_id is not None:
        query = query.where(EmailList.id != exclude_id)
    if (existing := await session.scalar(query)) is not None:
        raise Conflict(f"A list named '{name}' already exists (list #{existing}).", "name")


async def create_list(session: AsyncSession, data: Mapping[str, Any], created_by: str) -> EmailList:
    values = validate_list(data)
    await _check_name_free(session, values["name"])
    await check_segment(session, values, None)
    check_signup(values, None)
    email_list = EmailList(**values, created_by=created_by)
    session.add(email_list)
    await session.flush()
    await session.refresh(email_list)
    await refresh_count(session, email_list)
    return email_list


async def update_list(session: AsyncSession, list_id: int, data: Mapping[str, Any]) -> EmailList:
    email_list = await get_list(session, list_id)
    values = validate_list(data, partial=True)
    if "name" in values:
        await _check_name_free(session, values["name"], list_id)
    await check_segment(session, values, email_list)
    check_signup(values, email_list)
    for name, value in values.items():
        setattr(email_list, name, value)
    await session.flush()
    await session.refresh(email_list)
    await refresh_count(session, email_list)
    return email_list


async def delete_list(session: AsyncSession, list_id: int) -> None:
    email_list = await get_list(session, list_id)
    await session.delete(email_list)
    await session.flush()


async def add_members(session: AsyncSession, list_id: int, contact_ids: Sequence[int]) -> int:
    """Add contacts in one INSERT ... SELECT; members already on the list are left alone."""
    await get_static_list(session, list_id)
    result = await session.execute(
        insert(ListMember)
        .from_select(
            ["list_id", "contact_id"],
            select(literal(list_id, ListMember.list_id.type), Contact.id).where(Contact.id.in_(contact_ids)),
        )
        .on_conflict_do_nothing(),
        execution_options={"preserve_rowcount": True},  # else rowcount is -1 for an INSERT
    )
    return result.rowcount


async def remove_members(session: AsyncSession, list_id: int, contact_ids: Sequence[int]) -> int:
    await get_list(session, list_id)
    result = await session.execute(
        delete(ListMember).where(ListMember.list_id == list_id, ListMember.contact_id.in_(contact_ids))
    )
    return result.rowcount


async def lists_of_contact(session: AsyncSession, contact_id: int) -> list[EmailList]:
    result = await session.scalars(
        select(EmailList)
        .join(ListMember, ListMember.list_id == EmailList.id)
        .where(ListMember.contact_id == contact_id)
        .order_by(EmailList.name)
    )
    return list(result)


async def all_lists(session: AsyncSession, *, active_only: bool = False) -> list[EmailList]:
    query = select(EmailList).order_by(EmailList.name)
    if active_only:
        query = query.where(EmailList.is_active)
    return list(await session.scalars(query))


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
                rejected.append(RejectedAddress(number, item[:200], str(exc)))
            else:
                found.setdefault(email.lower(), email)
    return list(found.values()), rejected


async def add_by_email(session: AsyncSession, list_id: int, pasted: Any) -> PasteReport:
    """Add pasted addresses to a static list in two statements: unknown addresses become contacts
    (INSERT ... ON CONFLICT DO NOTHING), then every valid address joins the list."""
    email_list = await get_static_list(session, list_id)
    if not isinstance(pasted, str) or not pasted.strip():
        raise ValidationFailed({"addresses": "Paste at least one email address."})
    emails, rejected = parse_addresses(pasted)
    report = PasteReport(rejected=rejected)
    if emails:
        created = await session.execute(
            insert(Contact)
            .from_select(["email"], select(func.unnest(literal(emails, ARRAY(Text)))))
            .on_conflict_do_nothing(),
            execution_options={"preserve_rowcount": True},
        )
        lowered = [email.lower() for email in emails]
        added = await session.execute(
            insert(ListMember)
            .from_select(
                ["list_id", "contact_id"],
                select(literal(list_id, ListMember.list_id.type), Contact.id).where(
                    func.lower(Contact.email) == any_(literal(lowered, ARRAY(Text)))
                ),
            )
            .on_conflict_do_nothing(),
            execution_options={"preserve_rowcount": True},
        )
        report.created, report.added = created.rowcount, added.rowcount
        report.already = len(emails) - added.rowcount
    await session.refresh(email_list)  # contact_count is kept by a trigger
    return report
