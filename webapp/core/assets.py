"""The files under static/, read, hashed and gzipped once when the process starts (the first
static_url() call, which create_app makes), and kept in memory for core/static_files.py to serve.

Pages link them with `static_url("css/app.css")` -> `/static/css/app.css?v=<content hash>`. The
hash is in the query rather than the file name: files keep one name on disk, in URLs and in error
reports, and neither a file nor a reference to it needs rewriting.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
FAVICON = "img/favicon.svg"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class Asset:
    path: str  # relative to static/, with forward slashes
    media_type: str
    digest: str
    last_modified: datetime
    identity: bytes
    gzipped: bytes | None  # None for images and other files that compression does not shrink

    @property
    def url(self) -> str:
        return f"/static/{self.path}?v={self.digest}"


def _media_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _asset(directory: Path, file: Path) -> Asset:
    content = file.read_bytes()
    media_type = _media_type(file)
    gzipped = gzip.compress(content, compresslevel=9, mtime=0) if media_type.startswith(COMPRESSIBLE) else None
    return Asset(
        path=file.relative_to(directory).as_posix(),
        media_type=media_type,
        digest=hashlib.sha256(content).hexdigest()[:16],
        last_modified=datetime.fromtimestamp(int(file.stat().st_mtime), UTC),
        identity=content,
        gzipped=gzipped if gzipped is not None and len(gzipped) < len(content) else None,
    )


def load(directory: Path) -> dict[str, Asset]:
    return {a.path: a for a in (_asset(directory, f) for f in sorted(directory.rglob("*")) if f.is_file())}


@lru_cache
def assets() -> dict[str, Asset]:
    return load(STATIC_DIR)


def static_url(path: str) -> str:
    """The URL of a file under static/ with its content hash; a name that is not there fails loudly."""
    try:
        return assets()[path].url
    except KeyError:
        raise LookupError(f"There is no static/{path}.") from None
