"""An import file cut into chunks ready to load: rows parsed and validated, repeated addresses taken
out (the first row with an address wins, across the whole file), and the rest as COPY text.

Chunks come in file order and are numbered; their boundaries depend only on the file and the job's
chunk size, so a rerun cuts the same chunks. The repeat check keeps no per-address state in Python:
each chunk's addresses go through a temporary table on the caller's connection (KEEP_FIRST), in
file order, chunks loaded by an earlier run included, so a rerun rebuilds the same answer.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from webapp.imports.queries import load as queries
from webapp.imports.queries.runs import Connection
from webapp.imports.service.files import CSV, Record, RecordReader
from webapp.imports.service.rows import RowConverter, RowRejected

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
REJECT_EMAIL_MAX = 320  # of a rejected row's address cell, kept for the report (no address is longer)


@dataclass
class Chunk:
    number: int
    payload: bytes = b""  # the staged rows in COPY text format: line, then rows.STAGE_COLUMNS
    staged: int = 0
    rejects: list[tuple[Any, ...]] = field(default_factory=list)  # (line, kind, email, reason, cells json)
    records: int = 0  # rows of the file in this chunk, whatever became of them
    duplicates: int = 0
    estimated_total: int = 0


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def copy_text(rows: list[tuple[Any, ...]]) -> bytes:
    return "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows).encode()


def _cells_json(cells: list[str]) -> str:
    return json.dumps(cells, ensure_ascii=False)


def _reject(record: Record, kind: str, email: str, reason: str) -> tuple[Any, ...]:
    return (record.line, kind, email, reason, _cells_json(record.cells))


class Chunker:
    """Chunks of `chunk_rows` rows; the ones numbered in `loaded` only feed the repeat check."""

    def __init__(
        self,
        conn: Connection,
        reader: RecordReader,
        converter: RowConverter,
        chunk_rows: int,
        loaded: Collection[int] = (),
        estimated_total: int = 0,
    ) -> None:
        self.conn, self.reader, self.converter = conn, reader, converter
        self.chunk_rows, self.loaded, self.estimated_total = max(1, chunk_rows), set(loaded), estimated_total
        self.records = 0  # rows of the file read so far (all of them once iteration has ended)
        queries.create_repeat_check(conn)
        conn.commit()

    def __iter__(self) -> Iterator[Chunk]:
        records = iter(self.reader)
        for record in records:  # the header: the first row that could be read
            if not record.error:
                break
        number, batch = 0, []
        for record in records:
            batch.append(record)
            if len(batch) >= self.chunk_rows:
                if (chunk := self._chunk(number, batch)) is not None:
                    yield chunk
                number, batch = number + 1, []
        if batch and (chunk := self._chunk(number, batch)) is not None:
            yield chunk

    def _chunk(self, number: int, batch: list[Record]) -> Chunk | None:
        self.records += len(batch)
        chunk = Chunk(number, records=len(batch), estimated_total=self._estimate())
        rows: list[tuple[Any, ...]] = []
        by_line: dict[int, Record] = {}
        first_line: dict[str, int] = {}
        convert, email_index = self.converter.convert, self.converter.email_index
        for record in batch:
            try:
                if record.error:
                    raise RowRejected(record.error)
                row = convert(record.cells)
            except RowRejected as exc:
                email = record.cells[email_index].strip()[:REJECT_EMAIL_MAX] if email_index < len(record.cells) else ""
                chunk.rejects.append(_reject(record, "rejected", email, str(exc)))
                continue
            first = first_line.setdefault(row[0].lower(), record.line)
            if first != record.line:
                chunk.duplicates += 1
                chunk.rejects.append(_reject(record, "duplicate", row[0], f"Same address as line {first}."))
                continue
            rows.append((record.line, *row))
            by_line[record.line] = record
        repeats = self._earlier_chunks_had(rows)
        if number in self.loaded:
            return None  # loaded by an earlier run: its addresses are in the repeat check now, that is all
        if repeats:
            kept = []
            for row in rows:
                if row[0] in repeats:
                    earlier = repeats[row[0]]
                    reason = f"Same address as line {earlier}." if earlier else "Same address as an earlier row."
                    chunk.rejects.append(_reject(by_line[row[0]], "duplicate", row[1], reason))
                else:
                    kept.append(row)
            chunk.duplicates += len(rows) - len(kept)
            rows = kept
        chunk.payload, chunk.staged = copy_text(rows), len(rows)
        return chunk

    def _earlier_chunks_had(self, rows: list[tuple[Any, ...]]) -> dict[int, int | None]:
        """Remember these rows' addresses; {line: first line} for those an earlier chunk had."""
        if not rows:
            return {}
        repeats = queries.keep_first(self.conn, copy_text([(row[0], row[1]) for row in rows]))
        self.conn.commit()  # empties import_keys (ON COMMIT DELETE ROWS); import_seen stays
        return repeats

    def _estimate(self) -> int:
        if self.reader.fmt.kind == CSV and 0 < self.reader.position < self.reader.size:
            return int(self.records * self.reader.size / self.reader.position)
        return max(self.estimated_total, self.records)
