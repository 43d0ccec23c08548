"""CSV export of contacts: everyone, the contacts page's filters, or the members of a list of any
type (static, dynamic or segmented, through segments.list_condition).

The file opens with the standard columns and one column per custom field, so it can be imported
again as it is. Text that a spreadsheet would run as a formula (starting with =, +, -, @) gets a
leading apostrophe, which the importer takes off again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.schemas import ContactFilter
from webapp.core.db import get_sessionmaker
from webapp.core.errors import NotFound
from webapp.core.validation import is_valid_id
from webapp.imports.queries import export as queries
from webapp.lists.models import EmailList
from webapp.lists.service.audience import list_condition

BATCH = 5000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Export:
    condition: ColumnElement[bool]
    custom_keys: list[str]
    filename: str

    async def stream(self) -> AsyncIterator[bytes]:
        """The CSV, a batch of rows at a time, each batch read in a session of its own."""
        yield _csv_line([*queries.COLUMNS, *self.custom_keys]).encode()
        after = 0
        while True:
            async with get_sessionmaker()() as session:
                rows = await queries.batch(session, self.condition, after, BATCH)
            if not rows:
                return
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            for row in rows:
                writer.writerow(self._cells(row))
            after = rows[-1][0]
            yield out.getvalue().encode()

    def _cells(self, row: Any) -> list[str]:
        values = dict(zip(queries.COLUMNS, row[1:-1], strict=True))  # (id, *COLUMNS, custom_fields)
        cells = [_guard(values["email"]), *(_guard(values[name]) for name in queries.COLUMNS[1:7])]
        cells += [
            ", ".join(values["tags"]),
            values["language"],
            values["status"],
            "true" if values["is_active"] else "false",
            values["date_added"].isoformat(timespec="seconds"),
            values["last_updated"].isoformat(timespec="seconds"),
        ]
        custom = row[-1] or {}
        cells += [_guard(_text(custom.get(key))) for key in self.custom_keys]
        return cells


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _guard(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "list"


async def prepare(
    session: AsyncSession, filters: ContactFilter | None = None, list_id: int | None = None, now: datetime | None = None
) -> Export:
    """Everything about an export that can fail (an unknown list) before the first byte is sent."""
    now = now or datetime.now(UTC)
    day = now.strftime("%Y%m%d")
    parts: list[ColumnElement[bool]] = []
    filename = f"contacts-{day}.csv"
    if list_id is not None:
        email_list = await session.get(EmailList, list_id) if is_valid_id(list_id) else None
        if email_list is None:
            raise NotFound(f"List {list_id} does not exist.")
        parts.append(list_condition(email_list, now))
        filename = f"{_slug(email_list.name)}-{day}.csv"
    if filters is not None and (where := contacts.matching(filters)) is not None:
        parts.append(where)  # the contacts page's search and filters, as it applies them
    condition = and_(true(), *parts)
    return Export(condition, await queries.custom_keys(session, condition), filename)
