"""Membership of static lists, changed set-based: one statement however many contacts.

list_members.contact_count on email_lists is kept by statement-level triggers, so none of these
touch it; refresh the list afterwards to read the new figure."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Text, any_, delete, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.core.db import rows_changed
from webapp.lists.models import ListMember
from webapp.suppression.models import KEPT_STATUS_SQL

# Without it an INSERT's rowcount is -1, and these functions answer how many rows were added.
COUNT_ROWS = {"preserve_rowcount": True}


async def add(session: AsyncSession, list_id: int, contacts: Sequence[int] | ColumnElement[bool]) -> list[int]:
    """Add the contacts that exist, by id or every one a predicate over contacts matches (INSERT ...
    SELECT); members already on the list are left alone. The contacts that joined."""
    where = contacts if isinstance(contacts, ColumnElement) else Contact.id.in_(contacts)
    statement = (
        insert(ListMember)
        .from_select(
            ["list_id", "contact_id"], select(literal(list_id, ListMember.list_id.type), Contact.id).where(where)
        )
        .on_conflict_do_nothing()
        .returning(ListMember.contact_id)
    )
    return list(await session.scalars(statement))


async def remove(session: AsyncSession, list_id: int, contact_ids: Sequence[int]) -> int:
    statement = delete(ListMember).where(ListMember.list_id == list_id, ListMember.contact_id.in_(contact_ids))
    return rows_changed(await session.execute(statement))


async def create_contacts(session: AsyncSession, emails: Sequence[str]) -> int:
    """Make contacts of the addresses that are not contacts yet (one that opted out before comes back
    opted out, see KEPT_STATUS_SQL); how many were new."""
    pasted = func.unnest(literal(list(emails), ARRAY(Text))).table_valued("email").render_derived(name="p")
    statement = (
        insert(Contact)
        .from_select(["email", "status"], select(pasted.c.email, literal_column(KEPT_STATUS_SQL.format("p.email"))))
        .on_conflict_do_nothing()
    )
    return rows_changed(await session.execute(statement, execution_options=COUNT_ROWS))


async def add_by_email(session: AsyncSession, list_id: int, emails: Sequence[str]) -> list[int]:
    """Add the contacts with these addresses, matched case-insensitively as the unique index on
    lower(email) matches them; the contacts that joined the list."""
    lowered = [email.lower() for email in emails]
    statement = (
        insert(ListMember)
        .from_select(
            ["list_id", "contact_id"],
            select(literal(list_id, ListMember.list_id.type), Contact.id).where(
                func.lower(Contact.email) == any_(literal(lowered, ARRAY(Text)))
            ),
        )
        .on_conflict_do_nothing()
        .returning(ListMember.contact_id)
    )
    return list(await session.scalars(statement))
