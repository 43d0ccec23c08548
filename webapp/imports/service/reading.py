"""Uploaded files are read in processes of their own (core/isolation.py), under limits of memory
and CPU time: a workbook built to unzip to gigabytes or a CSV line of hundreds of megabytes costs
that process, never the web server or the worker. At upload, a pool of two such processes per web
process sums files up (format, columns, first rows); an import's worker reads the whole file
through a process of its own (read_chunks), which also converts the rows: a chunk at a time.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from webapp.core import isolation
from webapp.core.config import get_settings
from webapp.core.isolation import Failed, Kind, Limits
from webapp.imports.service.chunks import Chunk, prepare
from webapp.imports.service.files import (
    MAX_COLUMNS,
    MAX_ROWS,
    NOT_A_WORKBOOK,
    PREVIEW_CHARS,
    PREVIEW_ROWS,
    READ_BYTES,
    TOO_MANY_ROWS,
    XLSX,
    FileFormat,
    Record,
    RecordReader,
    UnreadableFile,
    detect_format,
)
from webapp.imports.service.rows import RowConverter

log = logging.getLogger("mailroom.imports")
SUMMARY_SECONDS = 120  # CPU time to sum a file up at upload (a workbook's shared strings come first)
READ_SECONDS = 1800  # CPU time to read a whole file for an import


def import_ahead() -> None:
    """Have this process's fork server import the reader: for the web server, which sums uploads up
    while someone waits. A worker reads a whole file per import and imports the reader in that
    process, so its renderer processes are forked without it and the ORM it brings in (about a
    second of CPU at each worker's start, and the memory)."""
    isolation.preload(__name__)
    isolation.preload("openpyxl")


@cache
def _summaries() -> isolation.Pool:
    return isolation.Pool(Limits(SUMMARY_SECONDS, get_settings().imports.read_memory_mb), processes=2)


@dataclass
class FileSummary:
    fmt: FileFormat
    headers: list[str]
    preview: list[Record] = field(default_factory=list)
    estimated_rows: int = 0


async def summary(path: Path, filename: str) -> FileSummary:
    """summarise() in a reading process; UnreadableFile, a limit named, if it cannot be read."""
    (result,) = await _summaries().amap(_summarise, [(path, filename)])
    if isinstance(result, Failed):
        raise _unreadable(result, SUMMARY_SECONDS, XLSX if filename.lower().endswith((".xlsx", ".xlsm")) else "")
    summed_up: FileSummary = result
    return summed_up


def read_chunks(path: Path, fmt: FileFormat, converter: RowConverter, chunk_rows: int) -> Iterator[Chunk]:
    """The file's chunks (chunks.prepare), read and converted in a process of its own."""
    try:
        yield from isolation.stream(
            _prepared,
            path,
            fmt,
            (converter.targets, converter.mode, converter.width),
            chunk_rows,
            limits=Limits(READ_SECONDS, get_settings().imports.read_memory_mb),
            chunk=1,
        )
    except isolation.Failure as exc:
        raise _unreadable(exc.failed, READ_SECONDS, fmt.kind) from None


def _unreadable(failed: Failed, seconds: int, kind: str) -> UnreadableFile:
    if failed.kind is Kind.MEMORY:
        megabytes = get_settings().imports.read_memory_mb
        return UnreadableFile(f"Reading this file needs more than {megabytes} MB of memory: the memory limit.")
    if failed.kind is Kind.TIME:
        return UnreadableFile(f"Reading this file took longer than {seconds} s: the time limit.")
    if failed.error == UnreadableFile.__name__:
        return UnreadableFile(failed.message)
    log.warning("a file could not be read: %s: %s", failed.error, failed.message)
    if kind == XLSX:
        return UnreadableFile(NOT_A_WORKBOOK)
    return UnreadableFile("This file cannot be read: save it again as CSV (UTF-8) or as an .xlsx workbook.")


# ---- in the reading processes ----------------------------------------------------------------


def _summarise(shared: None, item: tuple[Path, str]) -> FileSummary:
    return summarise(*item)


def _prepared(path: Path, fmt: FileFormat, converter: tuple[list[str], str, int], chunk_rows: int) -> Iterator[Chunk]:
    # A million rows make millions of lists and tuples, none in a reference cycle: left on, the cycle
    # collector would walk them over and over, a third of the time. This process ends with the file.
    gc.disable()
    reader = RecordReader(path, fmt)
    return prepare(reader, RowConverter(*converter), chunk_rows, lambda: reader.position)


def headers_of(first: Record, rows: Sequence[Record]) -> list[str]:
    """The column names, "Column N" where the header has none. Unnamed columns at the end, which
    spreadsheets leave behind, are dropped unless one of `rows` has a value in them."""
    headers = [cell.strip() for cell in first.cells]
    used = max((i + 1 for row in rows for i, cell in enumerate(row.cells) if cell.strip()), default=0)
    while headers and not headers[-1] and len(headers) > used:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise UnreadableFile(f"The file has {len(headers)} columns; at most {MAX_COLUMNS} can be imported.")
    return [name or f"Column {i}" for i, name in enumerate(headers, start=1)]


def summarise(path: Path, filename: str, rows: int = PREVIEW_ROWS) -> FileSummary:
    """Format, headers and the first rows of an uploaded file; UnreadableFile if it cannot be imported."""
    fmt = detect_format(path, filename)
    reader = RecordReader(path, fmt)
    records = iter(reader)
    try:
        first = next(records, None)
        while first is not None and first.error:
            first = next(records, None)
        if first is None:
            raise UnreadableFile("The file has no rows.")
        preview: list[Record] = []
        for record in records:
            preview.append(Record(record.line, [cell[:PREVIEW_CHARS] for cell in record.cells], record.error))
            if len(preview) >= rows:
                break
        summed_up = FileSummary(fmt, headers_of(first, preview), preview)
        if len(summed_up.headers) < 1:
            raise UnreadableFile("The first row (the column names) is empty.")
        summed_up.estimated_rows = _estimate_rows(reader, summed_up)
        if summed_up.estimated_rows > MAX_ROWS:
            raise UnreadableFile(TOO_MANY_ROWS)
    finally:
        records.close()
    return summed_up


def _estimate_rows(reader: RecordReader, summed_up: FileSummary) -> int:
    """Data rows in the file: exact for a short file, else from the line breaks in its first MB."""
    if len(summed_up.preview) < PREVIEW_ROWS:
        return len(summed_up.preview)
    if reader.fmt.kind == XLSX:
        return max(reader.declared_rows - 1, len(summed_up.preview))
    with open(reader.path, "rb") as f:
        sample = f.read(READ_BYTES)
    breaks = sample.count(b"\n") or sample.count(b"\r")
    return max(len(summed_up.preview), round(breaks * reader.size / max(len(sample), 1)) - 1)
