"""Files the staff download, streamed as they are produced (a CSV of a million contacts never sits
in memory): the response for one, with a file name made safe for the header."""

from __future__ import annotations

from collections.abc import AsyncIterable

from litestar.response import Stream

SAFE_PUNCTUATION = "-_. "


def safe_filename(name: str) -> str:
    """`name` with anything but ASCII letters, digits and -_. and space replaced, for a quoted header value."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in SAFE_PUNCTUATION) else "_" for ch in name)


def csv_download(chunks: AsyncIterable[bytes], filename: str) -> Stream:
    """A CSV attachment, never cached (what it holds is about people)."""
    return Stream(
        chunks,
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
        headers={
            "Content-Disposition": f'attachment; filename="{safe_filename(filename)}"',
            "Cache-Control": "no-store",
        },
    )
