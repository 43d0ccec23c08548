"""The media library as the API shows it."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct


class MediaFileOut(Struct):
    id: int
    name: str
    alt: str
    url: str  # where emails load it; the same for ever
    content_type: str
    width: int
    height: int
    size: int  # bytes
    created_by: str
    created_at: datetime


class MediaPageOut(Struct):
    items: list[MediaFileOut]
    next_cursor: str | None
