"""What the contacts table shows: filters, sorts and the keyset cursors of its pages.

Every sort is a tuple of columns in one direction ending with id, matched by an index of the same
shape (see models/contact.py). A cursor holds the sort key of the row it continues from.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, literal_column, select, text

from webapp.contacts.models import Contact
from webapp.contacts.schemas import ContactFilter
from webapp.core.validation import is_valid_id
from webapp.lists.models import ListMember

EMPTY: ColumnElement[str] = literal_column("''")  # written into the SQL, so that it matches the indexes' expressions


def sort_columns(sort: str) -> list[Any]:
    columns: dict[str, list[Any]] = {
        "newest": [Contact.date_added, Contact.id],
        "oldest": [Contact.date_added, Contact.id],
        "email": [func.lower(Contact.email), Contact.id],
        "name": [
            and_(Contact.first_name == EMPTY, Contact.last_name == EMPTY).self_group(),
            func.lower(func.coalesce(func.nullif(Contact.last_name, EMPTY), Contact.first_name)),
            func.lower(Contact.first_name),
            Contact.id,
        ],
        "company": [(Contact.company == EMPTY).self_group(), func.lower(Contact.company), Contact.id],
        "updated": [Contact.last_updated, Contact.id],
    }
    return columns[sort]


def sort_key(contact: Contact, sort: str) -> list[Any]:
    return {
        "newest": lambda c: [c.date_added.isoformat(), c.id],
        "oldest": lambda c: [c.date_added.isoformat(), c.id],
        "email": lambda c: [c.email.lower(), c.id],
        "name": lambda c: [
            not (c.first_name or c.last_name),
            (c.last_name or c.first_name).lower(),
            c.first_name.lower(),
            c.id,
        ],
        "company": lambda c: [not c.company, c.company.lower(), c.id],
        "updated": lambda c: [c.last_updated.isoformat(), c.id],
    }[sort](contact)


def _decode_key(sort: str, raw: list[Any]) -> list[Any]:
    key_id = int(raw[-1])
    if not is_valid_id(key_id):  # a larger bound would make the query fail
        raise ValueError("id out of range")
    if sort in {"newest", "oldest", "updated"}:
        return [datetime.fromisoformat(raw[0]), key_id]
    if sort in {"name", "company"}:  # the first is whether the name (company) is missing
        if not isinstance(raw[0], bool):
            raise ValueError("not a sort key")
        return [raw[0], *(str(v) for v in raw[1:-1]), key_id]
    return [str(v) for v in raw[:-1]] + [key_id]


def encode_cursor(direction: str, key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([direction, key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[str, list[Any]] | None:
    """None for anything that is not a cursor we made for this sort: the caller shows page one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, raw = json.loads(base64.urlsafe_b64decode(padded))
        if direction not in {"after", "before"} or len(raw) != len(sort_columns(sort)):
            return None
        return direction, _decode_key(sort, raw)
    except (ValueError, TypeError, KeyError, OverflowError, json.JSONDecodeError):  # int(1e999); a dict key
        return None


MAX_SEARCH_WORD = 100  # PostgreSQL rejects tsquery words over 2 KB; nobody types a longer prefix
MAX_SEARCH_WORDS = 12  # enough for a long address: first.last+tag@mail.example.co.uk is 7
_WORDS = re.compile(r"[^\W_]+")  # letters and digits, in any script
WHOLE_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # what was typed is one whole address (fullmatch)


def search_query(q: str) -> str | None:
    """Turn what was typed into a prefix tsquery: 'jo smi' -> 'jo:* & smi:*'. Words split where the
    stored search text splits them (SEARCH_VECTOR_SQL): at any punctuation, so a pasted address
    'ann-marie+news@example.com' or a name like O'Brien finds its contact."""
    words = [word[:MAX_SEARCH_WORD] for word in _WORDS.findall(q.lower())]
    return " & ".join(f"{w}:*" for w in words[:MAX_SEARCH_WORDS]) or None


def apply_filter(filters: ContactFilter, query: Select[Any], row: Any = Contact) -> Select[Any]:
    """query with these filters on `row`: the contacts table or an alias of it."""
    if tsquery := _tsquery(filters):
        query = query.where(row.search.op("@@")(func.to_tsquery(text("'simple'::regconfig"), tsquery)))
        if WHOLE_ADDRESS.fullmatch(typed := filters.q.strip()):  # that contact, not every address it begins
            query = query.where(func.lower(row.email) == typed.lower())
    elif filters.q.strip():  # punctuation only ("%", "_"): no word of any contact, so nobody, not everyone
        query = query.where(false())
    if filters.tag:
        query = query.where(row.tags.contains([filters.tag.strip().lower()]))
    if wanted := _wanted_tags(filters):
        query = query.where(row.tags.contains(wanted))
    if filters.company:
        query = query.where(func.lower(row.company) == filters.company.strip().lower())
    if filters.status:
        # Written into the SQL (one of ContactStatus, never what was typed), so that a plan the
        # server keeps for the statement still uses the partial index of the statuses not active.
        query = query.where(row.status == bindparam("status", str(filters.status), unique=True, literal_execute=True))
    if filters.is_active is not None:
        query = query.where(row.is_active.is_(filters.is_active))
    if filters.list_id is not None:
        query = query.where(
            select(ListMember.contact_id)
            .where(ListMember.list_id == filters.list_id, ListMember.contact_id == row.id)
            .exists()
        )
    if filters.condition is not None:
        query = query.where(filters.condition)
    return query


def condition(filters: ContactFilter) -> ColumnElement[bool] | None:
    """The filters as one predicate over contacts; None when there are none."""
    return apply_filter(filters, select(Contact.id)).whereclause


def _tsquery(filters: ContactFilter) -> str | None:
    return search_query(filters.q) if filters.q else None


def _wanted_tags(filters: ContactFilter) -> list[str]:
    return [t.strip().lower() for t in filters.tags if t.strip()]


def has_own_index(filters: ContactFilter, sort: str) -> bool:
    """Whether a filter has an index of its own (search, tags, list; company unless sorting by it),
    so its matches may bunch up anywhere in the sort order (see table.py)."""
    company_elsewhere = bool(filters.company) and sort != "company"
    return bool(
        _tsquery(filters)
        or filters.tag
        or _wanted_tags(filters)
        or filters.list_id is not None
        or company_elsewhere
        or filters.condition is not None
    )
