"""CSV files out: contacts (everyone, the contacts page's filters, or the members of a list of any
type, through lists' list_condition), and an import's rows that were not imported.

A contacts file opens with the standard columns and one column per custom field, so it can be
imported again as it is. Text that a spreadsheet would run as a formula (starting with =, +, -, @)
gets a leading apostrophe, which the importer takes off again: in the rejected rows too, the file
people are told to open, fix and import again.

Both stream in keyset batches, each read in a session of its own, so memory stays flat however
many rows there are and no transaction is held while the client reads. A segment's rules are typed
by people and can ask for a lot: each statement of a contacts export stops at the time limit of a
segment's count (MAILROOM_SEGMENT_COUNT_SECONDS). The scan for the custom field columns, before the
first byte, gathers every contact the file will hold, so rules too slow for the limit are refused
there, with a message.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.schemas import ContactFilter
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.queries import TooSlow, time_limit, within_time_limit
from webapp.core.validation import is_valid_id
from webapp.imports.models import ImportJob
from webapp.imports.queries import export as queries
from webapp.imports.queries import jobs as job_queries
from webapp.imports.schemas import CUSTOM
from webapp.lists.service import lists
from webapp.lists.service.audience import list_condition

BATCH = 5000  # rows read per query
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SLUG_MAX = 60  # of a list's name in the file name
STEM_MAX = 80  # of the uploaded file's name in the rejected rows' file name
QUOTED_MAX = 40  # of a list id from a URL, in the message that it does not exist
UTF8_BOM = b"\xef\xbb\xbf"  # so that Excel reads a file as UTF-8

log = logging.getLogger("mailroom.exports")


def csv_line(cells: Sequence[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().encode()


STANDARD_HEADER = (*queries.COLUMNS, "suppressed")
_TAKEN = {name.lower() for name in STANDARD_HEADER}


def _custom_header(key: str) -> str:
    """A custom field's column: its name, or custom:<name> where that is a standard column's (a field
    named "Suppressed" before that column came), which the importer reads back as the field."""
    return f"{CUSTOM}{key}" if key.lower() in _TAKEN else key


@dataclass
class Export:
    conditions: list[ColumnElement[bool]]  # which contacts: all of these hold
    custom_keys: list[str]
    filename: str

    async def stream(self, *, for_spreadsheets: bool = False) -> AsyncIterator[bytes]:
        """The CSV, a batch of rows at a time; for_spreadsheets: after a UTF-8 byte order mark, so
        that Excel shows accents (the importer reads the file with or without it)."""
        header = [*STANDARD_HEADER, *(_custom_header(key) for key in self.custom_keys)]
        yield (UTF8_BOM if for_spreadsheets else b"") + csv_line(header)
        after = 0
        while True:
            rows = await self._batch(after)
            if not rows:
                return
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            for row in rows:
                writer.writerow(self._cells(row))
            after = rows[-1][0]
            yield out.getvalue().encode()

    async def _batch(self, after: int) -> Sequence[Any]:
        seconds = get_settings().segments.count_seconds
        async with get_sessionmaker()() as session:
            try:
                async with time_limit(session, seconds):
                    return await queries.batch(session, self.conditions, after, BATCH)
            except TooSlow:
                # Rare: the whole set was gathered within the limit before the first byte. The download
                # breaks off (the browser marks it failed) rather than end as if it were complete.
                log.warning("%s: the batch after contact %s took too long; download broken off", self.filename, after)
                raise

    def _cells(self, row: Any) -> list[str]:
        values = dict(zip(queries.COLUMNS, row[1:-2], strict=True))  # (id, *COLUMNS, custom_fields, suppressed)
        cells = [_guard(values["email"]), *(_guard(values[name]) for name in queries.COLUMNS[1:7])]
        cells += [
            _guard(", ".join(values["tags"])),
            values["language"],
            values["status"],
            "true" if values["is_active"] else "false",
            values["date_added"].isoformat(timespec="seconds"),
            values["last_updated"].isoformat(timespec="seconds"),
            row[-1] or "",  # why the address may not be mailed, whatever its status says (a manual entry)
        ]
        custom = row[-2] or {}
        cells += [_guard(_shown(custom.get(key))) for key in self.custom_keys]
        return cells


def _shown(value: Any) -> str:
    """A custom field's value as the file shows it (and the importer reads it back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _guard(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:SLUG_MAX] or "list"


async def prepare(
    session: AsyncSession,
    filters: ContactFilter | None = None,
    list_id: int | str | None = None,
    now: datetime | None = None,
) -> Export:
    """Everything about an export that can fail (an unknown list) before the first byte is sent.
    `list_id` may be the text of a URL's parameter: anything no list can have is a list that does
    not exist."""
    now = now or datetime.now(UTC)
    day = now.strftime("%Y%m%d")
    conditions: list[ColumnElement[bool]] = []
    filename = f"contacts-{day}.csv"
    if list_id is not None:
        email_list = await lists.get_list(session, _list_number(list_id))
        conditions.append(list_condition(email_list, now))
        filename = f"{_slug(email_list.name)}-{day}.csv"
    if filters is not None and (where := contacts.matching(filters)) is not None:
        conditions.append(where)  # the contacts page's search and filters, as it applies them
    seconds = get_settings().segments.count_seconds
    keys = await within_time_limit(session, seconds, queries.custom_keys(session, conditions))
    if keys is None:
        raise ValidationFailed({"list_id" if list_id is not None else "q": too_slow_to_export(seconds)})
    return Export(conditions, keys, filename)


def too_slow_to_export(seconds: float) -> str:
    return (
        f"Gathering these contacts took longer than {seconds:g} s, the time limit, so nothing was exported. "
        "A segment with fewer or narrower conditions gathers faster."
    )


def _list_number(list_id: int | str) -> int:
    if isinstance(list_id, int):
        return list_id
    text = list_id.strip()
    number = int(text) if text.isascii() and text.isdigit() else 0
    if not is_valid_id(number):
        raise NotFound(f"List {list_id[:QUOTED_MAX]} does not exist.")  # as lists.get_list says it
    return number


def rejects_filename(job: ImportJob) -> str:
    return f"{job.filename.rsplit('.', 1)[0][:STEM_MAX] or 'import'}-rejected.csv"


PROBLEMS = {"duplicate": "repeated"}  # the word the import's page uses for a row repeating an earlier one


async def rejects_csv(job: ImportJob) -> AsyncIterator[bytes]:
    """line, kind, reason, then the row's own columns under the file's headers: fix and import again."""
    yield UTF8_BOM + csv_line(["line", "problem", "reason", *map(_guard, job.headers)])
    after = 0
    while True:
        async with get_sessionmaker()() as session:
            rows, _ = await job_queries.rejects_page(session, job.id, after, BATCH)
        if not rows:
            return
        after = rows[-1].line
        yield b"".join(csv_line([r.line, PROBLEMS.get(r.kind, r.kind), r.reason, *map(_guard, r.cells)]) for r in rows)
