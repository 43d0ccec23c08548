"""Contact listing: filters, keyset pagination and cheap counts for tables of millions of rows.

Every sort is a tuple of columns in one direction ending with id, matched by an index of the same
shape (see models/contact.py), so a page is an index range scan: `(cols) > (cursor)` for the next
page, `(cols) < (cursor)` read backwards for the previous one. No OFFSET, no COUNT(*) of the table.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.models import Contact, ListMember

SORTS: dict[str, tuple[str, bool]] = {
    # name: (label, descending)
    "newest": ("Newest first", True),
    "oldest": ("Oldest first", False),
    "email": ("Email A–Z", False),
    "name": ("Name A–Z", False),
    "company": ("Company A–Z", False),
    "updated": ("Recently updated", True),
}


def _sort_columns(sort: str) -> list[Any]:
    return {
        "newest": [Contact.date_added, Contact.id],
        "oldest": [Contact.date_added, Contact.id],
        "email": [func.lower(Contact.email), Contact.id],
        "name": [func.lower(Contact.last_name), func.lower(Contact.first_name), Contact.id],
        "company": [func.lower(Contact.company), Contact.id],
        "updated": [Contact.last_updated, Contact.id],
    }[sort]


def _sort_key(contact: Contact, sort: str) -> list[Any]:
    return {
        "newest": lambda c: [c.date_added.isoformat(), c.id],
        "oldest": lambda c: [c.date_added.isoformat(), c.id],
        "email": lambda c: [c.email.lower(), c.id],
        "name": lambda c: [c.last_name.lower(), c.first_name.lower(), c.id],
        "company": lambda c: [c.company.lower(), c.id],
        "updated": lambda c: [c.last_updated.isoformat(), c.id],
    }[sort](contact)


def _decode_key(sort: str, raw: list[Any]) -> list[Any]:
    key_id = int(raw[-1])
    if not 0 < key_id < 2**63:  # ids are bigints: a larger bound would make the query fail
        raise ValueError("id out of range")
    if sort in {"newest", "oldest", "updated"}:
        return [datetime.fromisoformat(raw[0]), key_id]
    return [str(v) for v in raw[:-1]] + [key_id]


def encode_cursor(direction: str, key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([direction, key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[str, list[Any]] | None:
    """None for anything that is not a cursor we made for this sort: the caller shows page one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, raw = json.loads(base64.urlsafe_b64decode(padded))
        if direction not in {"after", "before"} or len(raw) != len(_sort_columns(sort)):
            return None
        return direction, _decode_key(sort, raw)
    except (ValueError, TypeError, KeyError, OverflowError, json.JSONDecodeError):  # int(1e999); a dict key
        return None


MAX_SEARCH_WORD = 100  # PostgreSQL rejects tsquery words over 2 KB; nobody types a longer prefix


def search_query(q: str) -> str | None:
    """Turn what was typed into a prefix tsquery: 'jo smi' -> 'jo:* & smi:*'. Only word characters survive."""
    words = [
        "".join(ch for ch in word if ch.isalnum())[:MAX_SEARCH_WORD]
        for word in q.lower().replace("@", " ").replace(".", " ").split()
    ]
    words = [w for w in words if w]
    return " & ".join(f"{w}:*" for w in words[:8]) or None


@dataclass
class ContactFilter:
    q: str = ""
    tag: str = ""
    tags: tuple[str, ...] = ()  # contacts having all of these
    company: str = ""
    status: str = ""
    is_active: bool | None = None
    list_id: int | None = None

    def apply(self, query: Select) -> Select:
        if self.q and (tsquery := search_query(self.q)):
            query = query.where(Contact.search.op("@@")(func.to_tsquery(text("'simple'::regconfig"), tsquery)))
        if self.tag:
            query = query.where(Contact.tags.contains([self.tag.strip().lower()]))
        if wanted := [t.strip().lower() for t in self.tags if t.strip()]:
            query = query.where(Contact.tags.contains(wanted))
        if self.company:
            query = query.where(func.lower(Contact.company) == self.company.strip().lower())
        if self.status:
            query = query.where(Contact.status == self.status)
        if self.is_active is not None:
            query = query.where(Contact.is_active.is_(self.is_active))
        if self.list_id is not None:
            query = query.where(
                select(ListMember.contact_id)
                .where(ListMember.list_id == self.list_id, ListMember.contact_id == Contact.id)
                .exists()
            )
        return query

    @property
    def is_empty(self) -> bool:
        return not (self.q or self.tag or self.tags or self.company or self.status or self.list_id is not None) and self.is_active is None


@dataclass
class ContactPage:
    contacts: list[Contact]
    next_cursor: str | None
    prev_cursor: str | None
    sort: str
    filters: ContactFilter = field(default_factory=ContactFilter)


async def page(
    session: AsyncSession, filters: ContactFilter, *, sort: str = "newest", cursor: str | None = None, limit: int = 50
) -> ContactPage:
    if sort not in SORTS:
        sort = "newest"
    descending = SORTS[sort][1]
    columns = _sort_columns(sort)
    decoded = decode_cursor(cursor, sort) if cursor else None
    direction = decoded[0] if decoded else "after"
    backwards = direction == "before"
    # Reading backwards flips both the comparison and the order; the rows are reversed afterwards.
    read_descending = descending != backwards

    query = filters.apply(select(Contact))
    if decoded:
        row, key = tuple_(*columns), tuple_(*decoded[1])
        query = query.where(row < key if read_descending else row > key)
    query = query.order_by(*[c.desc() if read_descending else c.asc() for c in columns]).limit(limit + 1)
    rows = list(await session.scalars(query))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()

    next_cursor = prev_cursor = None
    if rows:
        if has_more or backwards:
            next_cursor = encode_cursor("after", _sort_key(rows[-1], sort))
        if decoded and (has_more or not backwards):
            prev_cursor = encode_cursor("before", _sort_key(rows[0], sort))
    return ContactPage(rows, next_cursor, prev_cursor, sort, filters)


EXACT_COUNT_BELOW = 10_000


async def estimate_count(session: AsyncSession, filters: ContactFilter) -> tuple[int, bool]:
    """(count, exact). The planner's estimate first; when that is small, count for real (cheap then)."""
    if filters.is_empty:
        estimate = await session.scalar(
            text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'contacts'::regclass")
        )
        if not estimate:
            # Never analysed yet (reltuples = -1 or 0): the table is new and small enough to count.
            return await session.scalar(select(func.count()).select_from(Contact)) or 0, True
    else:
        # The statement compiled for psycopg (%(name)s placeholders) goes to the driver as is, with its
        # parameters bound by the driver: text() would re-parse the placeholders and lose the values.
        connection = await session.connection()
        compiled = filters.apply(select(Contact.id)).compile(dialect=connection.dialect)
        result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
        plan = result.scalar_one()
        estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate < EXACT_COUNT_BELOW:
        exact = await session.scalar(filters.apply(select(func.count()).select_from(Contact)))
        return exact or 0, True
    return estimate, False
