"""Serving static/ (the table in core/assets.py) with long caching, revalidation and gzip.

A request carrying the file's current hash (`?v=`) may be cached for a year: a changed file gets a
new URL. Any other (no hash, or the hash of another version, as during a rolling deploy when an old
page asks a new server or the other way round) gets the file as it is here, to be revalidated
before each reuse. Every response has an ETag (the hash, one per encoding) and Last-Modified, so a
revalidation is a 304 without a body. Text files go out gzipped (compressed once, at start-up) to
browsers that take gzip.

A request path is only ever a key in the table of files found at start-up, never a file-system
path, so no request can reach outside static/.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qs

from litestar import asgi
from litestar.enums import ScopeType
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.response.base import ASGIResponse
from litestar.types import HTTPScope, Receive, Scope, Send

from webapp.core.assets import FAVICON, Asset, assets

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # may be stored, but asked about (If-None-Match) before each use


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def _takes_gzip(accept_encoding: str) -> bool:
    """RFC 9110 12.5.3: gzip, or else `*`, listed with a quality above 0."""
    listed: dict[str, str] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        listed[name.strip().lower()] = params
    gzip_params = listed.get("gzip", listed.get("*"))
    return gzip_params is not None and _quality(gzip_params) > 0


def _not_modified(headers: dict[str, str], etag: str, last_modified: datetime) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present (weak comparison); else If-Modified-Since."""
    if (if_none_match := headers.get("if-none-match")) is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if (if_modified_since := headers.get("if-modified-since")) is not None:
        try:
            return last_modified <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


def _response(asset: Asset, scope: HTTPScope) -> ASGIResponse:
    request_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    current = parse_qs(scope["query_string"].decode("latin-1")).get("v") == [asset.digest]
    body, etag = asset.identity, f'"{asset.digest}"'
    headers = {
        "last-modified": format_datetime(asset.last_modified, usegmt=True),
        "cache-control": IMMUTABLE if current else REVALIDATE,
    }
    if asset.gzipped is not None:
        headers["vary"] = "Accept-Encoding"
        if _takes_gzip(request_headers.get("accept-encoding", "")):
            body, etag = asset.gzipped, f'"{asset.digest}-gzip"'
            headers["content-encoding"] = "gzip"
    headers["etag"] = etag
    if _not_modified(request_headers, etag, asset.last_modified):
        return ASGIResponse(status_code=304, headers=headers)
    headers |= {"content-type": asset.media_type, "content-length": str(len(body))}
    head = scope["method"] == "HEAD"
    return ASGIResponse(body=b"" if head else body, headers=headers, is_head_response=head)


async def _serve(asset: Asset | None, scope: Scope, receive: Receive, send: Send) -> None:
    if asset is None or scope["type"] != ScopeType.HTTP:
        raise NotFoundException()
    if scope["method"] not in ("GET", "HEAD"):
        raise MethodNotAllowedException()
    await _response(asset, scope)(scope, receive, send)


@asgi("/static", is_mount=True, is_static=True, include_in_schema=False, copy_scope=False)  # reads the scope only
async def serve_static(scope: Scope, receive: Receive, send: Send) -> None:
    await _serve(assets().get(scope["path"].lstrip("/")), scope, receive, send)


@asgi("/favicon.ico", include_in_schema=False, copy_scope=False)
async def serve_favicon(scope: Scope, receive: Receive, send: Send) -> None:
    """Browsers ask for /favicon.ico where a page names no icon (the JSON API, files)."""
    await _serve(assets()[FAVICON], scope, receive, send)
