"""Reading an uploaded contact file: CSV (any of the usual encodings and delimiters) or XLSX.

Only reading lives here: the format, encoding and delimiter are detected once at upload, and rows
are streamed with the number of the line they start on, so a report can point at them.

- Encoding: UTF-8 with or without a BOM; UTF-16 with a BOM (Excel's "Unicode text"); otherwise
  Windows-1252 (what "Latin-1" files from Windows really are), or ISO-8859-1 when a byte is
  undefined in Windows-1252. The whole file is decoded once to decide, so a stray byte at the end is
  not mistaken for UTF-8.
- Delimiter: comma, semicolon or tab, whichever splits the first rows most consistently into more
  than one column; Excel's `sep=;` first line is honoured.
- Line numbers are the physical lines a text editor shows (header = line 1 when it is the first
  line; a quoted value with line breaks spans several lines and the row is numbered by its first).
  For XLSX they are the sheet's row numbers. Blank lines are skipped but counted.
- Sizes: a value (CSV field or XLSX cell) over MAX_CELL_CHARS makes its row unreadable; a file of
  more than MAX_ROWS rows, or an XLSX whose parts unzip to more than the largest upload, is refused.
  Uploads are read in processes of their own, under memory and time limits (reading.py, which
  also sums a file up for the mapping step).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from webapp.core.config import get_settings
from webapp.core.errors import InputRefused

CSV, XLSX = "csv", "xlsx"
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
ENCODING_NAMES = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin-1": "ISO-8859-1 (Latin-1)",
}
SAMPLE_BYTES = 64 * 1024  # read to detect the delimiter
READ_BYTES = 1 << 20  # read at a time while checking the encoding; and to estimate the rows
DELIMITER_ROWS = 50  # rows of the sample that vote for a delimiter
CONSISTENT = 0.8  # share of those rows that must have the header's width
BINARY_CHECK = 1000  # characters at the start of a text file that must hold no NUL
EXACT_FLOAT = 1e15  # below this, a whole float is shown as an integer (no rounding yet)
PREVIEW_ROWS = 10
PREVIEW_CHARS = 200  # of each value in the preview
MAX_COLUMNS = 200
NOT_A_WORKBOOK = (
    "This Excel file cannot be read: it is damaged or not really an .xlsx workbook. "
    "Open it in Excel or another spreadsheet and save it again as .xlsx or CSV."
)
MAX_CELL_CHARS = csv.field_size_limit()  # 131,072: CSV's own limit, and XLSX cells' too
TOO_LONG_VALUE = f"This row cannot be read: a value is longer than {MAX_CELL_CHARS:,} characters."
RAW_LINES_KEPT = 1000  # of an unreadable row (a quote never closed takes every line after it)
MAX_ROWS = 2_000_000
MB = 1 << 20
TOO_MANY_ROWS = f"The file has more than {MAX_ROWS:,} rows: split it into files of at most that many."
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (Excel 97-2003)


class UnreadableFile(InputRefused):
    """The file cannot be imported at all; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class FileFormat:
    kind: str  # csv or xlsx
    encoding: str = ""  # csv only
    delimiter: str = ""  # csv only

    def describe(self) -> str:
        if self.kind == XLSX:
            return "Excel workbook (first sheet)"
        return f"CSV, {ENCODING_NAMES.get(self.encoding, self.encoding)}, {DELIMITER_NAMES[self.delimiter]}-separated"


@dataclass
class Record:
    line: int
    cells: list[str]  # an unreadable CSV row: its lines as they are in the file, as one cell
    error: str = ""  # the row could not be read at all (e.g. a cell over the size limit)


# ---- detection -----------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as f:
        start = f.read(4)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not start.startswith(codecs.BOM_UTF32_LE):
            return "utf-16"
        for encoding in ("utf-8-sig", "cp1252"):
            f.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := f.read(READ_BYTES):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return encoding
            except UnicodeDecodeError:
                continue
    return "latin-1"  # decodes any byte sequence


def _sep_hint(first_line: str) -> str | None:
    line = first_line.rstrip("\r\n")
    if line.lower().startswith("sep=") and len(line) == 5:
        return line[4]
    return None


def detect_delimiter(sample: str) -> str:
    """The delimiter that gives the header more than one column and the most rows of that width."""
    lines = sample.splitlines(keepends=True)
    if len(sample) >= SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # probably cut in the middle
    best, best_score = ",", (0, 0.0)
    for delimiter in DELIMITERS:
        rows = [row for row in _safe_rows(lines, delimiter) if any(cell.strip() for cell in row)][:DELIMITER_ROWS]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows if len(row) == width) / len(rows)
        score = (1 if consistent >= CONSISTENT else 0, consistent * width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _safe_rows(lines: list[str], delimiter: str) -> list[list[str]]:
    rows = []
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            rows.append(next(reader))
        except StopIteration:
            return rows
        except csv.Error:
            continue


def detect_format(path: Path, filename: str) -> FileFormat:
    with open(path, "rb") as f:
        magic = f.read(4)
    if not magic:
        raise UnreadableFile("The file is empty.")
    if magic == OLE_MAGIC:
        raise UnreadableFile("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or .csv.")
    if magic == ZIP_MAGIC:
        if not filename.lower().endswith((".xlsx", ".xlsm")):
            raise UnreadableFile("This is a compressed (zip) file, not a CSV or XLSX file.")
        _check_unzipped_size(path)
        return FileFormat(XLSX)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("This file is not a valid Excel (.xlsx) workbook.")
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as f:
        sample = f.read(SAMPLE_BYTES)
    if "\x00" in sample[:BINARY_CHECK] and encoding != "utf-16":
        raise UnreadableFile("This looks like a binary file, not a CSV file.")
    first = sample.splitlines(keepends=True)[0] if sample else ""
    if (hint := _sep_hint(first)) is not None:
        return FileFormat(CSV, encoding, hint if hint in DELIMITERS else ",")
    return FileFormat(CSV, encoding, detect_delimiter(sample))


def _check_unzipped_size(path: Path) -> None:
    """The parts of a workbook count at their unzipped size (which reading them never exceeds:
    zipfile stops at the size a part declares), against the largest upload."""
    limit = get_settings().imports.max_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableFile(NOT_A_WORKBOOK) from None
    if unzipped > limit:
        raise UnreadableFile(
            f"This workbook holds more than {limit // MB:,} MB once unzipped (the largest upload): "
            "save it as CSV, or split it."
        )


# ---- reading -------------------------------------------------------------------------------


class RecordReader:
    """Every non-blank row of the file, header first, with its line number. `position` is how far
    into the file (bytes) reading has got, for progress while the total is unknown."""

    def __init__(self, path: Path, fmt: FileFormat) -> None:
        self.path, self.fmt = path, fmt
        self.size = os.path.getsize(path)
        self.declared_rows = 0  # xlsx: the row count the sheet claims (may be missing or wrong)
        self._raw: IO[bytes] | None = None

    @property
    def position(self) -> int:
        if self._raw is None or self._raw.closed:
            return self.size
        return min(self._raw.tell(), self.size)

    def __iter__(self) -> Generator[Record]:
        records = self._xlsx() if self.fmt.kind == XLSX else self._csv()
        for count, record in enumerate(records):
            if count > MAX_ROWS:  # the header and MAX_ROWS rows
                raise UnreadableFile(TOO_MANY_ROWS)
            yield record

    def _csv(self) -> Iterator[Record]:
        with open(self.path, "rb") as raw:
            self._raw = raw
            text = io.TextIOWrapper(raw, encoding=self.fmt.encoding, newline="")
            offset = 1 if _sep_hint(text.readline()) is not None else 0  # Excel's `sep=;` line
            if not offset:
                text.seek(0)
            # The lines the reader takes for the row it is reading, so that a row it cannot read
            # is kept as it was typed (for the rejected rows' file): at most RAW_LINES_KEPT of them.
            taken: list[str] = []

            def lines() -> Iterator[str]:
                for text_line in text:
                    if len(taken) < RAW_LINES_KEPT:
                        taken.append(text_line)
                    yield text_line

            # strict: a quote never closed is an error at the end of the file, not a value that
            # silently took in every row after it.
            reader = csv.reader(lines(), delimiter=self.fmt.delimiter, strict=True)
            done = 0  # lines the reader has read
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    as_typed = "".join(taken)[:MAX_CELL_CHARS].rstrip("\r\n")
                    yield Record(offset + done + 1, [as_typed], _unreadable(exc, reader.line_num - done))
                    done = reader.line_num
                    taken.clear()
                    continue
                taken.clear()
                line, done = offset + done + 1, reader.line_num
                if "".join(row).strip():  # a row of empty or blank cells is skipped
                    yield Record(line, row)

    def _xlsx(self) -> Iterator[Record]:
        workbook = _open_workbook(self.path)
        try:
            sheet = workbook.worksheets[0]
            self.declared_rows = sheet.max_row or 0
            sheet.reset_dimensions()  # some writers store wrong dimensions; read every row there is
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(v) for v in values[: MAX_COLUMNS + 1]]
                while cells and not cells[-1]:
                    cells.pop()
                if any(len(cell) > MAX_CELL_CHARS for cell in cells):
                    yield Record(number, [], TOO_LONG_VALUE)
                elif any(cell.strip() for cell in cells):
                    yield Record(number, cells)
        finally:
            workbook.close()


def _unreadable(exc: csv.Error, lines: int) -> str:
    if str(exc) == "unexpected end of data":
        return (
            f"A quoted value starts on this line and is never closed, so the {lines:,} lines from here to the end "
            "of the file were read as one value and not imported. Close or remove the quote, then import those "
            "rows again."
        )
    if "expected after" in str(exc):
        return (
            "This row cannot be read: a quoted value has more text after its closing quote. Put the whole value "
            'in quotes, and double each quote inside it ("").'
        )
    if "field larger than field limit" in str(exc):
        return TOO_LONG_VALUE
    return f"This row cannot be read: {exc}."


def _open_workbook(path: Path) -> Any:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise UnreadableFile(NOT_A_WORKBOOK) from None
    if not workbook.worksheets:
        workbook.close()
        raise UnreadableFile("The workbook has no sheets.")
    return workbook


def _cell_text(value: Any) -> str:
    """An XLSX cell as the text a person sees: whole numbers without ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < EXACT_FLOAT else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)
