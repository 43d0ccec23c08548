"""Reading uploaded contact files: encodings, BOMs, delimiters, quotes, blank lines, line numbers, XLSX."""

from __future__ import annotations

import codecs
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from webapp.imports.service.files import (
    CSV,
    XLSX,
    FileFormat,
    RecordReader,
    UnreadableFile,
    detect_delimiter,
    detect_encoding,
    detect_format,
)
from webapp.imports.service.reading import summarise


def write(tmp_path: Path, data: bytes, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(path: Path, filename: str = "contacts.csv") -> list[tuple[int, list[str]]]:
    fmt = detect_format(path, filename)
    return [(r.line, r.cells) for r in RecordReader(path, fmt)]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("email,name\nzoë@example.com,Zoë\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF8 + "email,name\na@example.com,Zoë\n".encode(), "utf-8-sig"),
        ("email,name\na@example.com,Zoë “Z”\n".encode("cp1252"), "cp1252"),
        (b"email,name\na@example.com,Zo\xeb\x81\n", "latin-1"),  # 0x81 is undefined in Windows-1252
        ("email,name\na@example.com,Zoë\n".encode("utf-16"), "utf-16"),
    ],
)
def test_encodings_are_detected(tmp_path, data, encoding):
    path = write(tmp_path, data)
    assert detect_encoding(path) == encoding
    header, first = rows(path)
    assert header == (1, ["email", "name"])
    assert first[1][1].startswith("Zo")


def test_bom_does_not_end_up_in_the_first_header(tmp_path):
    path = write(tmp_path, codecs.BOM_UTF8 + b"Email;First name\r\nada@example.com;Ada\r\n")
    summary = summarise(path, "x.csv")
    assert summary.headers == ["Email", "First name"]
    assert summary.fmt == FileFormat(CSV, "utf-8-sig", ";")


def test_latin1_text_is_decoded_not_mangled(tmp_path):
    path = write(tmp_path, "email;nombre\nana@example.com;Añaños Núñez\n".encode("latin-1"))
    assert rows(path)[1] == (2, ["ana@example.com", "Añaños Núñez"])


def test_a_late_non_utf8_byte_still_switches_the_whole_file(tmp_path):
    body = b"email,name\n" + b"a@example.com,Ann\n" * 100_000 + "z@example.com,Zoë\n".encode("cp1252")
    path = write(tmp_path, body)
    assert detect_encoding(path) == "cp1252"
    assert rows(path)[-1][1] == ["z@example.com", "Zoë"]


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("email,first,last\na@x.com,A,B\n", ","),
        ("email;first;last\na@x.com;A;B\n", ";"),
        ("email\tfirst\tlast\na@x.com\tA\tB\n", "\t"),
        # commas inside values do not fool it into comma
        ('email;name;company\na@x.com;"Smith, Ann";"Acme, Inc"\nb@x.com;Bo;"X, Y"\n', ";"),
        ("email\na@x.com\n", ","),  # one column: anything works, comma is the default
    ],
)
def test_delimiter_sniffing(sample, delimiter):
    assert detect_delimiter(sample) == delimiter


def test_excel_sep_line_sets_the_delimiter_and_is_not_a_row(tmp_path):
    path = write(tmp_path, b"sep=;\nemail;name\na@example.com;Ann, B\n")
    assert detect_format(path, "x.csv").delimiter == ";"
    assert rows(path) == [(2, ["email", "name"]), (3, ["a@example.com", "Ann, B"])]


def test_quoted_fields_with_newlines_and_delimiters_keep_physical_line_numbers(tmp_path):
    path = write(
        tmp_path,
        (
            b"email,note,city\n"
            b'a@example.com,"two\nlines, and a comma",Oslo\n'
            b"\n"
            b",,\n"
            b'b@example.com,"say ""hi""",Rome\r\n'
            b"   \n"
            b"c@example.com,plain,Lima"
        ),
    )
    assert rows(path) == [
        (1, ["email", "note", "city"]),
        (2, ["a@example.com", "two\nlines, and a comma", "Oslo"]),  # spans lines 2-3
        (6, ["b@example.com", 'say "hi"', "Rome"]),  # blank line 4 and delimiters-only line 5 skipped
        (8, ["c@example.com", "plain", "Lima"]),  # whitespace-only line 7 skipped; no final newline
    ]


def test_carriage_return_only_line_endings(tmp_path):
    path = write(tmp_path, b"email,name\ra@example.com,A\rb@example.com,B\r")
    assert [line for line, _ in rows(path)] == [1, 2, 3]


def test_oversized_cell_is_reported_on_its_line_and_reading_goes_on(tmp_path):
    path = write(tmp_path, b'email,note\na@example.com,ok\nb@example.com,"' + b"x" * 200_000 + b'"\nc@example.com,ok\n')
    records = list(RecordReader(path, detect_format(path, "x.csv")))
    bad = [r for r in records if r.error]
    assert bad and bad[0].line == 3
    assert bad[0].error == "This row cannot be read: a value is longer than 131,072 characters."  # not csv's words
    assert records[-1].cells == ["c@example.com", "ok"]


def test_text_after_a_closing_quote_is_reported_on_its_line_and_reading_goes_on(tmp_path):
    path = write(tmp_path, b'email;note\na@example.com;"said "hi" twice"\nc@example.com;ok\n')
    records = list(RecordReader(path, detect_format(path, "x.csv")))
    assert [(r.line, r.error[:59]) for r in records if r.error] == [
        (2, "This row cannot be read: a quoted value has more text after")
    ]
    assert records[-1].cells == ["c@example.com", "ok"]


def test_summary_preview_and_estimate(tmp_path):
    body = "Email,First Name\n" + "".join(f"user{i}@example.com,N{i}\n" for i in range(5000))
    summary = summarise(write(tmp_path, body.encode()), "c.csv")
    assert summary.headers == ["Email", "First Name"]
    assert [r.line for r in summary.preview] == list(range(2, 12))
    assert 4500 <= summary.estimated_rows <= 5500


def test_empty_header_cells_get_names(tmp_path):
    summary = summarise(write(tmp_path, b"email,,notes\na@x.com,1,2\n"), "c.csv")
    assert summary.headers == ["email", "Column 2", "notes"]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "c.csv", "empty"),
        (b"\n\n  \n", "c.csv", "no rows"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old.xls", ".xls"),
        (b"PK\x03\x04garbage", "c.xlsx", "cannot be read"),
        (b"PK\x03\x04garbage", "c.csv", "zip"),
        (b"email\n", "c.xlsx", "not a valid Excel"),
        (b"\x00\x01\x02binary\x00", "c.csv", "binary"),
    ],
)
def test_unreadable_files_say_why(tmp_path, data, name, message):
    with pytest.raises(UnreadableFile, match=message):
        summarise(write(tmp_path, data, name), name)


def test_xlsx_rows_keep_sheet_row_numbers_and_cell_text(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Email", "Score", "Joined", "VIP", "Ratio"])
    sheet.append(["ada@example.com", 42, date(2024, 5, 1), True, 0.5])
    sheet.append([None, None])  # blank row 3
    sheet.append(["bob@example.com", 7.0, datetime(2024, 5, 1, 9, 30), False, None])
    path = tmp_path / "c.xlsx"
    workbook.save(path)
    assert detect_format(path, "c.xlsx") == FileFormat(XLSX)
    assert rows(path, "c.xlsx") == [
        (1, ["Email", "Score", "Joined", "VIP", "Ratio"]),
        (2, ["ada@example.com", "42", "2024-05-01", "true", "0.5"]),
        (4, ["bob@example.com", "7", "2024-05-01 09:30:00", "false"]),
    ]
    assert summarise(path, "c.xlsx").headers == ["Email", "Score", "Joined", "VIP", "Ratio"]
