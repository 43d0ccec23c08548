"""Bytes on the wire for a staff page with its static files: first load vs repeat load, gzip vs not.

    .venv/bin/python bench/static_transfer.py          # the campaigns page (BENCH_PAGE to change)

Loads the page as a signed-in browser would, then every /static/ file it links, and counts each
response's status line, headers and body as sent (the body compressed where it was). A repeat load
follows the page's caching headers the way a browser's cache does: a file under a year-long,
immutable Cache-Control is not asked for again; anything else is asked for with If-None-Match and
costs a 304. The third row asks for the same files without their ?v= hash, as a page linking them by
plain name would, to show what revalidating every file costs.
"""

from __future__ import annotations

import gzip
import os
import re

import httpx
from _common import create_staff, server, services, sign_in

PAGE = os.environ.get("BENCH_PAGE", "/campaigns")
ENCODINGS = ("identity", "gzip")
STATIC_REF = re.compile(r"""(?:src|href)=['"](/static/[^'"]+)['"]""")


def wire_bytes(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[httpx.Response, int, str]:
    """The response, its size as sent (status line, header lines, blank line, body as encoded) and
    its body as text."""
    with client.stream("GET", url, headers=headers) as response:
        raw = b"".join(response.iter_raw())
    head = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n") + 2
    head += sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    body = gzip.decompress(raw) if response.headers.get("content-encoding") == "gzip" else raw
    return response, head + len(raw), body.decode("utf-8", "replace")


def first_load(client: httpx.Client, encoding: str) -> tuple[int, int, dict[str, httpx.Response]]:
    headers = {"Accept-Encoding": encoding}
    _, total, page = wire_bytes(client, PAGE, headers)
    cache: dict[str, httpx.Response] = {}
    for url in STATIC_REF.findall(page):
        response, size, _ = wire_bytes(client, url, headers)
        cache[url] = response
        total += size
    return total, 1 + len(cache), cache


def repeat_load(client: httpx.Client, encoding: str, cache: dict[str, httpx.Response], hashed: bool) -> tuple[int, int]:
    headers = {"Accept-Encoding": encoding}
    _, total, _ = wire_bytes(client, PAGE, headers)
    requests = 1
    for url, stored in cache.items():
        if hashed and "immutable" in stored.headers["cache-control"]:
            continue  # a browser uses its copy without asking
        asked = url if hashed else url.split("?")[0]
        _, size, _ = wire_bytes(client, asked, {**headers, "If-None-Match": stored.headers["etag"]})
        total += size
        requests += 1
    return total, requests


def main() -> None:
    with services(), server() as url:
        create_staff("bench-static@example.com")
        client = sign_in(url, "bench-static@example.com")
        rows: dict[str, dict[str, tuple[int, int]]] = {"first load": {}, "repeat load": {}, "repeat, unhashed URLs": {}}
        caches: dict[str, dict[str, httpx.Response]] = {}
        for encoding in ENCODINGS:
            total, requests, caches[encoding] = first_load(client, encoding)
            rows["first load"][encoding] = (total, requests)
            rows["repeat load"][encoding] = repeat_load(client, encoding, caches[encoding], hashed=True)
            rows["repeat, unhashed URLs"][encoding] = repeat_load(client, encoding, caches[encoding], hashed=False)

    print(f"staff page {PAGE} and the {len(caches['gzip'])} static files it links: bytes on the wire (responses)")
    print(f"{'':24}{'identity':>12}{'gzip':>12}{'requests':>10}")
    for label, by_encoding in rows.items():
        print(f"{label:24}{by_encoding['identity'][0]:>12,}{by_encoding['gzip'][0]:>12,}{by_encoding['gzip'][1]:>10}")
    print("\nstatic files, body bytes:")
    for url, response in caches["identity"].items():
        gzipped = caches["gzip"][url].headers["content-length"]
        print(f"  {url.split('?')[0]:40}{int(response.headers['content-length']):>10,}{int(gzipped):>10,}")
    print()
    for label, key in (("first load", "first_load"), ("repeat load", "repeat_load")):
        for encoding in ENCODINGS:
            print(f"static_{key}_bytes_{encoding}: {rows[label][encoding][0]}")


if __name__ == "__main__":
    main()
