"""An import file cut into chunks ready to load, in the reading process: rows parsed and
validated, repeated addresses taken out (the first row with an address wins, across the whole
file), and the rest as COPY text. That is all of the Python work of an import, so it runs beside
the worker's thread and the loaders' database work.

Chunks come in file order and are numbered; their boundaries depend only on the file and the job's
chunk size, and a rerun reads the whole file again (the chunks an earlier run loaded too), so it
cuts the same chunks and finds the same repeats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from webapp.imports.service.files import Record
from webapp.imports.service.rows import RowConverter, RowRejected

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
REJECT_EMAIL_MAX = 320  # of a rejected row's address cell, kept for the report (no address is longer)

Reject = tuple[int, str, str, str, str]  # line, kind, email, reason, cells as JSON


@dataclass
class Chunk:
    number: int
    records: int  # rows of the file in this chunk, whatever became of them
    position: int  # bytes of the file read when the chunk was cut
    payload: bytes = b""  # the rows to load in COPY text: line, then the converter's columns
    staged: int = 0  # rows in the payload
    rejects: list[Reject] = field(default_factory=list)
    duplicates: int = 0  # of the rejects, those with an address an earlier row had
    estimated_total: int = 0  # rows in the file, as far as can be told when the chunk is loaded
    # When tags are merged into existing contacts: the cells of each staged row with tags, by line,
    # for the report of a row the database refuses (too many tags once merged)
    tagged_cells: dict[int, list[str]] = field(default_factory=dict)
    refused: int = 0  # staged rows the database refused (counted among the rejects)


def copy_text(rows: Iterable[tuple[str, ...]]) -> bytes:
    """COPY text format of rows of strings."""
    lines = []
    for row in rows:
        line = "\t".join(row)
        if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(row) - 1:
            line = "\t".join(value.translate(_ESCAPES) for value in row)
        lines.append(line)
    return "".join(line + "\n" for line in lines).encode()


def refused(line: int, cells: list[str], email: str, reason: str) -> Reject:
    """A staged row the database refused to write, with the cells kept in tagged_cells."""
    return _reject(Record(line, cells), "rejected", email, reason)


def _reject(record: Record, kind: str, email: str, reason: str) -> Reject:
    cells = [_storable(cell) for cell in record.cells]
    return (record.line, kind, _storable(email), reason, json.dumps(cells, ensure_ascii=False))


def _storable(value: str) -> str:
    """A rejected row is kept as it was, but PostgreSQL text and JSON cannot hold NUL: it is shown as �."""
    return value.replace("\x00", "\ufffd")


def prepare(
    records: Iterable[Record], converter: RowConverter, chunk_rows: int, position: Callable[[], int]
) -> Iterator[Chunk]:
    """The rows after the file's header (its first row that could be read), `chunk_rows` at a time."""
    first_lines = _FirstLines()
    chunk_rows = max(1, chunk_rows)
    rows = iter(records)
    for record in rows:
        if not record.error:
            break
    number, batch = 0, []
    for record in rows:
        batch.append(record)
        if len(batch) >= chunk_rows:
            yield _prepare(number, batch, converter, first_lines, position())
            number, batch = number + 1, []
    if batch:
        yield _prepare(number, batch, converter, first_lines, position())


class _FirstLines:
    """The line each address first appeared on, by a 128-bit digest of the address in lower case:
    the same memory for every address, however long (~110 bytes each)."""

    def __init__(self) -> None:
        self._lines: dict[bytes, int] = {}

    def first(self, email: str, line: int) -> int:
        """The line `email` first appeared on (this one if it is new)."""
        key = hashlib.blake2b(email.lower().encode(), digest_size=16).digest()
        return self._lines.setdefault(key, line)


def _prepare(
    number: int, batch: list[Record], converter: RowConverter, first_lines: _FirstLines, position: int
) -> Chunk:
    chunk = Chunk(number, records=len(batch), position=position)
    rows: list[tuple[str, ...]] = []
    convert, email_index = converter.convert, converter.email_index
    keep_tagged, tags_slot = converter.merges_tags, converter.tags_slot
    for record in batch:
        try:
            if record.error:
                raise RowRejected(record.error)
            row = convert(record.cells)
        except RowRejected as exc:
            cells = [] if record.error else record.cells  # an unreadable row's one cell is its raw text
            email = cells[email_index].strip()[:REJECT_EMAIL_MAX] if email_index < len(cells) else ""
            chunk.rejects.append(_reject(record, "rejected", email, str(exc)))
            continue
        first = first_lines.first(row[0], record.line)
        if first != record.line:
            chunk.duplicates += 1
            chunk.rejects.append(_reject(record, "duplicate", row[0], f"Same address as line {first}."))
            continue
        rows.append((str(record.line), *row))
        if keep_tagged and row[tags_slot]:
            chunk.tagged_cells[record.line] = record.cells
    chunk.payload, chunk.staged = copy_text(rows), len(rows)
    return chunk
