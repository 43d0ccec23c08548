"""The SQL of the steps whose effect is this feature's own (the others go through the services
of the features they change: contacts' tags, lists' members, the webhooks' outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import BigInteger, ColumnElement, any_, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact

SET_FIELD = text("""
UPDATE contacts SET custom_fields = custom_fields || jsonb_build_object(CAST(:field AS text), CAST(:value AS jsonb)),
    last_updated = now()
WHERE id = ANY(CAST(:ids AS bigint[])) AND custom_fields -> CAST(:field AS text) IS DISTINCT FROM CAST(:value AS jsonb)
""")
CLEAR_FIELD = text("""
UPDATE contacts SET custom_fields = custom_fields - CAST(:field AS text), last_updated = now()
WHERE id = ANY(CAST(:ids AS bigint[])) AND custom_fields ? CAST(:field AS text)
""")


async def set_custom_field(session: AsyncSession, contact_ids: Sequence[int], field: str, value: Any) -> None:
    """Set a custom field on these contacts (null removes it); contacts that have it already are not touched."""
    if value is None:
        await session.execute(CLEAR_FIELD, {"ids": list(contact_ids), "field": field})
    else:
        params = {"ids": list(contact_ids), "field": field, "value": msgspec.json.encode(value).decode()}
        await session.execute(SET_FIELD, params)


def among(contact_ids: Sequence[int]) -> ColumnElement[bool]:
    """These contacts, as one array parameter (thousands of ids, one bound value)."""
    return Contact.id == any_(literal(list(contact_ids), ARRAY(BigInteger)))


async def emails(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, str]:
    rows = await session.execute(select(Contact.id, Contact.email).where(among(contact_ids)))
    return dict(rows.all())
