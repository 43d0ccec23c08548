"""Keyset cursors: the last row's sort key as opaque text (base64 JSON), and back.

Decoding is strict: anything but a key of exactly the shape asked for is None, so a forged or
mangled cursor never reaches SQL as a value of the wrong type. What None means (the first page for
a hand-edited page URL, a 400 naming the cursor for the API) is the caller's choice.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from enum import Enum
from typing import Any

from webapp.core.validation import is_valid_id

MAX_CURSOR_LENGTH = 1000
MAX_TEXT_LENGTH = 500  # of a text part of a key (a name, lower-cased)


class Part(Enum):
    ID = "id"  # a row id
    INTEGER = "integer"  # any whole number, such as a score
    TEXT = "text"
    TIME = "time"  # an ISO date and time


def encode_cursor(*key: int | str | datetime) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *shape: Part) -> tuple[Any, ...] | None:
    """The key `cursor` stands for, when it has exactly `shape`; otherwise None."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):  # not base64, not UTF-8, not JSON
        return None
    if not isinstance(raw, list) or len(raw) != len(shape):
        return None
    key = [_part(value, part) for value, part in zip(raw, shape, strict=True)]
    return None if any(value is None for value in key) else tuple(key)


def _part(value: Any, part: Part) -> Any:
    if part is Part.ID:
        return value if is_valid_id(value) and not isinstance(value, bool) else None
    if part is Part.INTEGER:
        return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63 else None
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_TEXT_LENGTH:
        return None
    if part is Part.TIME:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value
