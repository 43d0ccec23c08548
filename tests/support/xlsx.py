"""XLSX files built by hand, to be exactly as hostile as a test needs: a zip of the few parts
openpyxl reads, with the sheet and shared strings given as XML."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

MB = 1 << 20
NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
PARTS = {
    "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    b'+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    b'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": b'<?xml version="1.0"?><workbook ' + NS + b' xmlns:r="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://'
    b'schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    b"</Relationships>",
}
HEADER_ROW = b'<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>'


def cell_row(number: int, text: str) -> bytes:
    return f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{text}</t></is></c></row>'.encode()


def people(first: int, last: int) -> bytes:
    return b"".join(cell_row(n, f"person{n}@example.com") for n in range(first, last + 1))


def workbook(sheet_rows: Iterable[bytes], strings: Iterable[bytes] = ()) -> bytes:
    """Rows (and shared strings) are written piece by piece, so a part can unzip to far more than
    the test ever holds in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in PARTS.items():
            z.writestr(name, data)
        for name, head, pieces, tail in (
            (
                "xl/worksheets/sheet1.xml",
                b"<worksheet " + NS + b'><dimension ref="A1:A100"/><sheetData>',  # as Excel writes it
                sheet_rows,
                b"</sheetData></worksheet>",
            ),
            ("xl/sharedStrings.xml", b"<sst " + NS + b">", strings, b"</sst>"),
        ):
            with z.open(name, "w", force_zip64=True) as part:
                part.write(b'<?xml version="1.0"?>' + head)
                for piece in pieces:
                    part.write(piece)
                part.write(tail)
    return out.getvalue()


def repeated(piece: bytes, total_bytes: int) -> Iterable[bytes]:
    block = piece * (MB // len(piece))
    for _ in range(total_bytes // len(block)):
        yield block


def giant_cell(megabytes: int = 150) -> bytes:
    """The issue's file: 150 KB that unzips to a 150 MB cell in row 2."""
    return workbook(
        [
            HEADER_ROW,
            b'<row r="2"><c r="A2" t="inlineStr"><is><t>',
            *repeated(b"a", megabytes * MB),
            b"</t></is></c></row>",
        ]
    )


def shared_strings(megabytes: int = 150) -> bytes:
    """Millions of short shared strings, all read into memory before the first row."""
    return workbook([HEADER_ROW, people(2, 5)], repeated(b"<si><t>aaaaaaaaaa</t></si>", megabytes * MB))


def wide_row_after(good_rows: int, megabytes: int = 150) -> bytes:
    """Good rows first (so the upload's preview is fine), then one row of millions of cells."""
    return workbook(
        [
            HEADER_ROW,
            people(2, good_rows + 1),
            f'<row r="{good_rows + 2}">'.encode(),
            *repeated(b'<c t="n"><v>1</v></c>', megabytes * MB),
            b"</row>",
        ]
    )


def unzipping_to(megabytes: int) -> bytes:
    """A sheet of blank space that unzips to `megabytes`."""
    return workbook([HEADER_ROW, people(2, 5), *repeated(b" ", megabytes * MB)])


def broken() -> bytes:
    """A zip that is an XLSX until the sheet's XML breaks off in a row."""
    return workbook([HEADER_ROW, people(2, 5), b'<row r="6"><c r="A6" t="inlineStr"><is><t>cut off</is></row>'])
