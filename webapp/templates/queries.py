"""Template library lookups: filtered keyset pages by name, the categories in use, and, from the
contacts, which custom-field names they actually have (for the "unknown variable" warning) and the
contact a preview is rendered for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.core.cursors import Part, decode_cursor, encode_cursor
from webapp.templates.models import EmailTemplate
from webapp.templates.schemas import TemplateFilter

# Custom-field names are looked for in this many of the newest contacts: an index range scan, so
# it stays cheap at millions of contacts. A field none of them has is reported as unknown, which
# is only ever a warning.
CUSTOM_FIELD_SAMPLE = 20_000


@dataclass(frozen=True)
class TemplatePage:
    templates: list[EmailTemplate]
    next_cursor: str | None


TEMPLATE_KEY = (Part.TEXT, Part.ID)  # lower(name), id


def is_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *TEMPLATE_KEY) is not None


async def find_templates(
    session: AsyncSession, filters: TemplateFilter, *, limit: int = 50, cursor: str | None = None
) -> TemplatePage:
    """Templates by name (case-insensitively), then id, filtered by what is given."""
    order = (func.lower(EmailTemplate.name), EmailTemplate.id)
    query = select(EmailTemplate)
    if filters.template_type:
        query = query.where(EmailTemplate.template_type == filters.template_type)
    if filters.category:
        query = query.where(func.lower(EmailTemplate.category) == filters.category.strip().lower())
    if filters.is_active is not None:
        query = query.where(EmailTemplate.is_active.is_(filters.is_active))
    if after := decode_cursor(cursor, *TEMPLATE_KEY):
        query = query.where(tuple_(*order) > tuple_(*after))
    rows = list(await session.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return TemplatePage(rows, encode_cursor(rows[-1].name.lower(), rows[-1].id) if more and rows else None)


async def categories(session: AsyncSession) -> list[str]:
    result = await session.scalars(
        select(EmailTemplate.category).where(EmailTemplate.category != "").distinct().order_by(EmailTemplate.category)
    )
    return list(result)


async def custom_fields_in_use(session: AsyncSession, names: Sequence[str]) -> set[str]:
    """Which of `names` are custom-field keys of recently added contacts."""
    if not names:
        return set()
    result = await session.execute(
        text("""
            WITH recent AS MATERIALIZED (
                SELECT custom_fields FROM contacts ORDER BY date_added DESC, id DESC LIMIT :sample
            )
            SELECT DISTINCT key FROM recent
            CROSS JOIN LATERAL jsonb_object_keys(
                CASE WHEN jsonb_typeof(recent.custom_fields) = 'object' THEN recent.custom_fields ELSE '{}' END
            ) AS key
            WHERE key = ANY(CAST(:names AS text[]))
        """),
        {"sample": CUSTOM_FIELD_SAMPLE, "names": list(names)},
    )
    return set(result.scalars())


async def contact_by_email(session: AsyncSession, email: str) -> Contact | None:
    """The contact with this address in any case (uq_contacts_email_lower)."""
    return await session.scalar(select(Contact).where(func.lower(Contact.email) == email.lower()))
