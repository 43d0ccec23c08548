"""Contact rules: validation, uniqueness by address, bulk tagging and deletion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact, ContactStatus
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.validation import (
    CUSTOM_FIELD_NAME,
    bool_field,
    is_valid_id,
    normalize_email,
    normalize_tags,
    text_field,
)

TEXT_FIELDS = {
    "first_name": ("First name", 200),
    "last_name": ("Last name", 200),
    "phone": ("Phone", 50),
    "company": ("Company", 200),
    "job_title": ("Job title", 200),
    "location": ("Location", 200),
}
RESERVED_NAMES = {"id", "email", "tags", "status", "is_active", "date_added", "last_updated", *TEXT_FIELDS}
MAX_CUSTOM_FIELDS = 100
MAX_CUSTOM_VALUE_LENGTH = 2000


@dataclass
class ContactInput:
    """Validated values; only the keys in `provided` are applied on update."""

    values: dict[str, Any] = field(default_factory=dict)

    @property
    def provided(self) -> set[str]:
        return set(self.values)


def _custom_fields(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("Custom fields must be an object of name: value pairs.")
    if len(raw) > MAX_CUSTOM_FIELDS:
        raise ValueError(f"At most {MAX_CUSTOM_FIELDS} custom fields.")
    result: dict[str, Any] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not CUSTOM_FIELD_NAME.match(name):
            raise ValueError(
                f"'{name}' is not a valid field name: use letters, digits and underscores, starting with a letter."
            )
        if name in RESERVED_NAMES:
            raise ValueError(f"'{name}' is a standard contact field; set it directly.")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"'{name}' must be text, a number, true/false or empty.")
        if isinstance(value, str) and len(value) > MAX_CUSTOM_VALUE_LENGTH:
            raise ValueError(f"'{name}' must be at most {MAX_CUSTOM_VALUE_LENGTH} characters.")
        if isinstance(value, str) and "\x00" in value:  # JSONB cannot hold NUL
            raise ValueError(f"'{name}' contains a character that is not allowed (NUL).")
        result[name] = value
    return result


def validate_contact(data: Mapping[str, Any], *, partial: bool = False) -> ContactInput:
    """Check every given field, collecting all problems at once. partial=True is for updates."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def run(name: str, fn, *args) -> None:
        try:
            values[name] = fn(data[name], *args)
        except ValueError as exc:
            errors[name] = str(exc)

    if "email" in data or not partial:
        if "email" not in data:
            errors["email"] = "Enter an email address."
        else:
            run("email", normalize_email)
    for name, (label, max_length) in TEXT_FIELDS.items():
        if name in data:
            run(name, text_field, label, max_length)
    if "tags" in data:
        run("tags", normalize_tags)
    if "custom_fields" in data:
        run("custom_fields", _custom_fields)
    if "is_active" in data:
        run("is_active", bool_field, "Active")
    if "status" in data:
        if data["status"] in {s.value for s in ContactStatus}:
            values["status"] = data["status"]
        else:
            errors["status"] = "Status must be one of: " + ", ".join(s.value for s in ContactStatus) + "."
    unknown = set(data) - {"email", "tags", "custom_fields", "is_active", "status", *TEXT_FIELDS}
    for name in sorted(unknown):
        errors[name] = "Unknown field."
    if errors:
        raise ValidationFailed(errors)
    return ContactInput(values)


async def _existing_id(session: AsyncSession, email: str, exclude_id: int | None = None) -> int | None:
    query = select(Contact.id).where(func.lower(Contact.email) == email.lower())
    if exclude_id is not None and is_valid_id(exclude_id):  # no contact has an impossible id
        query = query.where(Contact.id != exclude_id)
    return await session.scalar(query)


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
    if (existing := await _existing_id(session, email, exclude_id)) is not None:
        raise _duplicate(email, existing)
    return email


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id) if is_valid_id(contact_id) else None
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


async def create_contact(session: AsyncSession, data: Mapping[str, Any]) -> Contact:
    values = validate_contact(data).values
    if (existing := await _existing_id(session, values["email"])) is not None:
        raise _duplicate(values["email"], existing)
    contact = Contact(**values)
    session.add(contact)
    try:
        await session.flush()
    except IntegrityError:  # lost a race with a concurrent insert of the same address
        await session.rollback()
        existing = await _existing_id(session, values["email"])
        raise _duplicate(values["email"], existing or 0) from None
    await session.refresh(contact)
    return contact


async def update_contact(session: AsyncSession, contact_id: int, data: Mapping[str, Any]) -> Contact:
    contact = await get_contact(session, contact_id)
    values = validate_contact(data, partial=True).values
    if "email" in values and (existing := await _existing_id(session, values["email"], contact_id)) is not None:
        raise _duplicate(values["email"], existing)
    for name, value in values.items():
        setattr(contact, name, value)
    await session.flush()
    await session.refresh(contact)
    return contact


async def delete_contacts(session: AsyncSession, contact_ids: Sequence[int]) -> int:
    result = await session.execute(delete(Contact).where(Contact.id.in_(contact_ids)))
    return result.rowcount


async def add_tag(session: AsyncSession, contact_ids: Sequence[int], raw_tag: str) -> int:
    tag = _one_tag(raw_tag)
    result = await session.execute(
        update(Contact)
        .where(Contact.id.in_(contact_ids), ~Contact.tags.contains([tag]))
        .values(tags=func.array_append(Contact.tags, tag), last_updated=func.now())
    )
    return result.rowcount


async def remove_tag(session: AsyncSession, contact_ids: Sequence[int], raw_tag: str) -> int:
    tag = _one_tag(raw_tag)
    result = await session.execute(
        update(Contact)
        .where(Contact.id.in_(contact_ids), Contact.tags.contains([tag]))
        .values(tags=func.array_remove(Contact.tags, tag), last_updated=func.now())
    )
    return result.rowcount


def _one_tag(raw_tag: str) -> str:
    try:
        tags = normalize_tags([raw_tag or ""])
    except ValueError as exc:
        raise ValidationFailed({"tag": str(exc)}) from None
    if not tags:
        raise ValidationFailed({"tag": "Enter a tag."})
    return tags[0]
