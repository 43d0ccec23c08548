"""Single contacts and bulk changes, to ticked ones or to every contact a filter matches (one
statement either way): address look-ups, tags, deletion."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.contacts.queries.filters import condition
from webapp.contacts.schemas import ContactFilter
from webapp.core.db import rows_changed
from webapp.core.validation import MAX_TAGS

Selection = Sequence[int] | ContactFilter  # ticked contacts by id, or all that a filter matches


def chosen(which: Selection) -> ColumnElement[bool]:
    if isinstance(which, ContactFilter):
        matching = condition(which)
        return true() if matching is None else matching  # no filter: every contact
    return Contact.id.in_(which)


async def id_by_email(session: AsyncSession, email: str, exclude_id: int | None = None) -> int | None:
    """The contact with this address in any case (uq_contacts_email_lower), other than exclude_id."""
    query = select(Contact.id).where(func.lower(Contact.email) == email.lower())
    if exclude_id is not None:
        query = query.where(Contact.id != exclude_id)
    return await session.scalar(query)


async def count(session: AsyncSession, which: Selection) -> int:
    """Exactly how many contacts a bulk action would reach."""
    return await session.scalar(select(func.count()).select_from(Contact).where(chosen(which))) or 0


async def addresses_with_status(
    session: AsyncSession, which: Selection, statuses: Sequence[str]
) -> list[tuple[str, str]]:
    """(email, status) of the chosen contacts whose status is one of these."""
    query = select(Contact.email, Contact.status).where(chosen(which), Contact.status.in_(statuses))
    return [(email, status) for email, status in (await session.execute(query)).all()]


async def delete_many(session: AsyncSession, which: Selection) -> int:
    result = await session.execute(delete(Contact).where(chosen(which)))
    return rows_changed(result)


async def analyze(session: AsyncSession) -> None:
    """Fresh statistics (a sample of the table: well under a second at a million rows). ANALYZE in
    this transaction counts the rows it deleted as gone; the figures count once it commits."""
    await session.execute(text("ANALYZE contacts"))


async def count_full(session: AsyncSession, which: Selection, tag: str) -> int:
    query = select(func.count()).where(
        chosen(which), ~Contact.tags.contains([tag]), func.cardinality(Contact.tags) >= MAX_TAGS
    )
    return await session.scalar(query) or 0


async def add_tag(session: AsyncSession, which: Selection, tag: str) -> list[int]:
    """Tag the contacts that do not have it yet and have room for it; the contacts that changed."""
    changed = await session.scalars(
        update(Contact)
        .where(chosen(which), ~Contact.tags.contains([tag]), func.cardinality(Contact.tags) < MAX_TAGS)
        .values(tags=func.array_append(Contact.tags, tag), last_updated=func.now())
        .returning(Contact.id)
    )
    return list(changed)


async def remove_tag(session: AsyncSession, which: Selection, tag: str) -> list[int]:
    """Untag the contacts that have it; the contacts that changed."""
    changed = await session.scalars(
        update(Contact)
        .where(chosen(which), Contact.tags.contains([tag]))
        .values(tags=func.array_remove(Contact.tags, tag), last_updated=func.now())
        .returning(Contact.id)
    )
    return list(changed)


CUSTOM_FIELDS_USED = text("""
SELECT name FROM unnest(CAST(:names AS text[])) AS name
WHERE EXISTS (SELECT 1 FROM contacts WHERE jsonb_exists(custom_fields, name))
""")


async def custom_fields_used(session: AsyncSession, names: Sequence[str]) -> set[str]:
    """Which of `names` some contact has as a custom field: a scan of the table per name not found
    early, so callers bound its time."""
    return set(await session.scalars(CUSTOM_FIELDS_USED, {"names": list(names)}))
