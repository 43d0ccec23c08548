"""An import file cut into chunks ready to load, in two steps on two processors.

In the reading process (`prepare`): rows parsed and validated, repeated addresses within a chunk
taken out (the first row with an address wins), the rest as COPY text. That is most of the Python
work of an import, so it runs beside the worker's own thread and the loaders' database work.

In the worker (`Chunker`): each chunk's addresses go through the repeat check across the whole
file, which keeps no per-address state in Python: a temporary table on the caller's connection
(KEEP_FIRST), fed in file order, chunks loaded by an earlier run included, so a rerun rebuilds the
same answer. Rows an earlier chunk had are left out of the load by line.

Chunks come in file order and are numbered; their boundaries depend only on the file and the job's
chunk size, so a rerun cuts the same chunks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from webapp.imports.queries import load as queries
from webapp.imports.queries.runs import Connection
from webapp.imports.service.files import CSV, FileFormat, Record
from webapp.imports.service.rows import RowConverter, RowRejected

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
REJECT_EMAIL_MAX = 320  # of a rejected row's address cell, kept for the report (no address is longer)

Reject = tuple[int, str, str, str, str]  # line, kind, email, reason, cells as JSON


@dataclass
class Prepared:
    """A chunk as the reading process sends it."""

    number: int
    records: int  # rows of the file in this chunk, whatever became of them
    position: int  # bytes of the file read when the chunk was cut
    payload: bytes = b""  # the valid rows in COPY text: line, then the converter's columns
    keys: bytes = b""  # line and address of each valid row, COPY text: the repeat check's input
    lines: list[int] = field(default_factory=list)  # the valid rows' lines, in file order
    cells: list[list[str]] = field(default_factory=list)  # and their cells, for the report
    rejects: list[Reject] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class Chunk:
    """A chunk as a loader gets it."""

    number: int
    payload: bytes = b""  # as Prepared.payload
    repeats: list[int] = field(default_factory=list)  # lines of the payload an earlier chunk had: not loaded
    staged: int = 0  # rows of the payload that load
    rejects: list[Reject] = field(default_factory=list)
    records: int = 0
    duplicates: int = 0
    estimated_total: int = 0


def copy_text(rows: Iterable[Iterable[str]]) -> bytes:
    """COPY text format of rows of strings."""
    lines = []
    for row in rows:
        values = tuple(row)
        line = "\t".join(values)
        if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(values) - 1:
            line = "\t".join(value.translate(_ESCAPES) for value in values)
        lines.append(line)
    return "".join(line + "\n" for line in lines).encode()


def _reject(line: int, cells: list[str], kind: str, email: str, reason: str) -> Reject:
    return (line, kind, email, reason, json.dumps(cells, ensure_ascii=False))


# ---- in the reading process -------------------------------------------------------------------


def prepare(
    records: Iterable[Record], converter: RowConverter, chunk_rows: int, position: Callable[[], int]
) -> Iterator[Prepared]:
    """The file's rows after its header (the first row that could be read), `chunk_rows` at a time."""
    chunk_rows = max(1, chunk_rows)
    rows = iter(records)
    for record in rows:
        if not record.error:
            break
    number, batch = 0, []
    for record in rows:
        batch.append(record)
        if len(batch) >= chunk_rows:
            yield _prepare(number, batch, converter, position())
            number, batch = number + 1, []
    if batch:
        yield _prepare(number, batch, converter, position())


def _prepare(number: int, batch: list[Record], converter: RowConverter, position: int) -> Prepared:
    chunk = Prepared(number, records=len(batch), position=position)
    rows: list[tuple[str, ...]] = []
    first_line: dict[str, int] = {}
    convert, email_index = converter.convert, converter.email_index
    for record in batch:
        try:
            if record.error:
                raise RowRejected(record.error)
            row = convert(record.cells)
        except RowRejected as exc:
            cells = record.cells
            email = cells[email_index].strip()[:REJECT_EMAIL_MAX] if email_index < len(cells) else ""
            chunk.rejects.append(_reject(record.line, cells, "rejected", email, str(exc)))
            continue
        first = first_line.setdefault(row[0].lower(), record.line)
        if first != record.line:
            chunk.duplicates += 1
            chunk.rejects.append(
                _reject(record.line, record.cells, "duplicate", row[0], f"Same address as line {first}.")
            )
            continue
        rows.append((str(record.line), *row))
        chunk.lines.append(record.line)
        chunk.cells.append(record.cells)
    chunk.payload = copy_text(rows)
    chunk.keys = copy_text(row[:2] for row in rows)
    return chunk


# ---- in the worker ----------------------------------------------------------------------------


class Chunker:
    """Chunks to load from prepared ones; those numbered in `loaded` only feed the repeat check."""

    def __init__(
        self,
        conn: Connection,
        prepared: Iterable[Prepared],
        fmt: FileFormat,
        size: int,
        loaded: Collection[int] = (),
        estimated_total: int = 0,
    ) -> None:
        self.conn, self.prepared, self.fmt, self.size = conn, prepared, fmt, size
        self.loaded, self.estimated_total = set(loaded), estimated_total
        self.records = 0  # rows of the file read so far (all of them once iteration has ended)
        queries.create_repeat_check(conn)
        conn.commit()

    def __iter__(self) -> Iterator[Chunk]:
        for prepared in self.prepared:
            self.records += prepared.records
            repeats = self._earlier_chunks_had(prepared.keys) if prepared.lines else {}
            if prepared.number in self.loaded:
                continue  # loaded by an earlier run: its addresses are in the repeat check now, that is all
            chunk = Chunk(
                prepared.number,
                payload=prepared.payload,
                repeats=sorted(repeats),
                staged=len(prepared.lines) - len(repeats),
                rejects=prepared.rejects,
                records=prepared.records,
                duplicates=prepared.duplicates + len(repeats),
                estimated_total=self._estimate(prepared.position),
            )
            if repeats:
                index = {line: i for i, line in enumerate(prepared.lines)}
                for line, (email, earlier) in sorted(repeats.items()):
                    reason = f"Same address as line {earlier}." if earlier else "Same address as an earlier row."
                    chunk.rejects.append(_reject(line, prepared.cells[index[line]], "duplicate", email, reason))
            yield chunk

    def _earlier_chunks_had(self, keys: bytes) -> dict[int, tuple[str, int | None]]:
        """Remember these rows' addresses; {line: (address, first line)} for those an earlier chunk had."""
        repeats = queries.keep_first(self.conn, keys)
        self.conn.commit()  # empties import_keys (ON COMMIT DELETE ROWS); import_seen stays
        return repeats

    def _estimate(self, position: int) -> int:
        if self.fmt.kind == CSV and 0 < position < self.size:
            return int(self.records * self.size / position)
        return max(self.estimated_total, self.records)
