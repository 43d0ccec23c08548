"""Contacts for a CSV export: keyset batches by id over any filter, so a million rows never sit in
memory and every batch is one short query (no transaction or cursor held while the client reads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.suppression.models import Suppression

COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "job_title",
    "location",
    "tags",
    "language",
    "status",
    "is_active",
    "date_added",
    "last_updated",
)
MAX_CUSTOM_KEYS = 200


Conditions = Sequence[ColumnElement[bool]]  # which contacts: all of these hold (none: every contact)


async def custom_keys(session: AsyncSession, conditions: Conditions) -> list[str]:
    """Every custom field name among the exported contacts (one scan; a column each in the file)."""
    key = func.jsonb_object_keys(Contact.custom_fields).column_valued("key")
    query = select(key).select_from(Contact).where(*conditions).distinct().order_by(key).limit(MAX_CUSTOM_KEYS)
    return list(await session.scalars(query))


async def batch(session: AsyncSession, conditions: Conditions, after_id: int, size: int) -> Sequence[Any]:
    """The next `size` contacts after `after_id`, by id: (id, *COLUMNS, custom_fields, the reason
    its address is on the suppression list or None)."""
    suppressed = select(Suppression.reason).where(Suppression.email_hash == Contact.email_hash).scalar_subquery()
    columns = [Contact.id, *(getattr(Contact, name) for name in COLUMNS), Contact.custom_fields, suppressed]
    query = select(*columns).where(*conditions, Contact.id > after_id).order_by(Contact.id).limit(size)
    return (await session.execute(query)).all()
