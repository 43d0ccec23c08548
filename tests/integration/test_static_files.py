"""Static files: URLs carry the file's content hash, a current hash is cached for a year, anything
else is revalidated; conditional requests get 304; text files go out gzipped when the browser
takes gzip. Of the other responses only the API's are compressed: pages (which carry the CSRF
token and reflect input) never are (BREACH), nor event streams and images."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import re
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.campaigns import audience
from webapp.campaigns.models import Campaign
from webapp.core.tokens import make_token

ROOT = Path(__file__).resolve().parents[2]
IMMUTABLE = "public, max-age=31536000, immutable"
PLAIN = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


def digest(path: str) -> str:
    return hashlib.sha256((ROOT / "static" / path).read_bytes()).hexdigest()[:16]


def static_refs(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=['"](/static/[^'"]+)['"]""", html)


@pytest.fixture
def client(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as c:
        yield c


async def test_staff_and_public_pages_link_static_files_by_content_hash(staff, client):
    editor = await staff("editor")
    dashboard, login = editor.get("/").text, client.get("/login").text
    public = client.get("/u/preferences/not-a-token").text
    for html in (dashboard, login, public):
        refs = static_refs(html)
        assert refs
        for ref in refs:
            path, _, query = ref.removeprefix("/static/").partition("?")
            assert query == f"v={digest(path)}", ref
    assert f"/static/css/app.css?v={digest('css/app.css')}" in dashboard
    assert f"/static/js/htmx-2.0.11.min.js?v={digest('js/htmx-2.0.11.min.js')}" in dashboard
    assert f"/static/css/public.css?v={digest('css/public.css')}" in public


def test_a_current_hash_is_cached_for_a_year(client):
    response = client.get(f"/static/css/app.css?v={digest('css/app.css')}", headers=PLAIN)
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.content == (ROOT / "static/css/app.css").read_bytes()
    assert response.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef", "?other=1"])
def test_a_url_without_the_current_hash_is_revalidated(client, query):
    response = client.get(f"/static/css/app.css{query}", headers=PLAIN)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (ROOT / "static/css/app.css").read_bytes()


def test_every_static_response_has_an_etag_and_last_modified(client):
    response = client.get("/static/js/app.js", headers=PLAIN)
    assert response.headers["etag"] == f'"{digest("js/app.js")}"'
    modified = parsedate_to_datetime(response.headers["last-modified"])
    assert int(modified.timestamp()) == int((ROOT / "static/js/app.js").stat().st_mtime)
    assert "set-cookie" not in response.headers  # a shared cache must never hand one user's cookie to another


def test_if_none_match_gets_304_without_a_body(client):
    first = client.get("/static/js/app.js", headers=PLAIN)
    again = client.get("/static/js/app.js", headers={**PLAIN, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "no-cache"
    listed = client.get("/static/js/app.js", headers={**PLAIN, "If-None-Match": f'"nope", W/{first.headers["etag"]}'})
    assert listed.status_code == 304  # If-None-Match compares weakly
    assert client.get("/static/js/app.js", headers={**PLAIN, "If-None-Match": "*"}).status_code == 304


def test_if_modified_since_gets_304_unless_the_file_is_newer(client):
    first = client.get("/static/js/app.js", headers=PLAIN)
    same = client.get("/static/js/app.js", headers={**PLAIN, "If-Modified-Since": first.headers["last-modified"]})
    assert same.status_code == 304 and same.content == b""
    older = format_datetime(parsedate_to_datetime(first.headers["last-modified"]).replace(year=2001), usegmt=True)
    assert client.get("/static/js/app.js", headers={**PLAIN, "If-Modified-Since": older}).status_code == 200
    nonsense = client.get("/static/js/app.js", headers={**PLAIN, "If-Modified-Since": "yesterday"})
    assert nonsense.status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(client):
    first = client.get("/static/js/app.js", headers=PLAIN)
    response = client.get(
        "/static/js/app.js",
        headers={**PLAIN, "If-None-Match": '"an-old-version"', "If-Modified-Since": first.headers["last-modified"]},
    )
    assert response.status_code == 200
    assert response.content == (ROOT / "static/js/app.js").read_bytes()


def test_head_answers_the_headers_of_get_without_a_body(client):
    url = f"/static/js/htmx-2.0.11.min.js?v={digest('js/htmx-2.0.11.min.js')}"
    get, head = client.get(url, headers=GZIP), client.head(url, headers=GZIP)
    assert head.status_code == 200
    assert head.content == b""
    same = ("content-type", "content-length", "content-encoding", "etag", "last-modified", "cache-control", "vary")
    for name in same:
        assert head.headers[name] == get.headers[name], name


def test_text_files_are_gzipped_for_browsers_that_take_it(client):
    plain = (ROOT / "static/js/htmx-2.0.11.min.js").read_bytes()
    with client.stream("GET", "/static/js/htmx-2.0.11.min.js", headers=GZIP) as response:
        wire = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(wire) < len(plain) / 2
    assert gzip.decompress(wire) == plain
    assert response.headers["etag"] == f'"{digest("js/htmx-2.0.11.min.js")}-gzip"'  # one per encoding

    identity = client.get("/static/js/htmx-2.0.11.min.js", headers=PLAIN)
    assert "content-encoding" not in identity.headers
    assert identity.headers["vary"] == "Accept-Encoding"
    for refusal in ("br, gzip;q=0", "*, gzip;q=0", "*;q=0", "deflate"):
        refused = client.get("/static/js/htmx-2.0.11.min.js", headers={"Accept-Encoding": refusal})
        assert "content-encoding" not in refused.headers, refusal
    for acceptance in ("*", "GZIP;q=0.5", "br;q=1, gzip; q=0.1"):
        taken = client.get("/static/js/htmx-2.0.11.min.js", headers={"Accept-Encoding": acceptance})
        assert taken.headers["content-encoding"] == "gzip", acceptance

    again = client.get("/static/js/htmx-2.0.11.min.js", headers={**GZIP, "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_missing_files_are_404(client):
    assert client.get("/static/css/nothing.css").status_code == 404
    assert client.get("/static/css").status_code == 404
    assert client.get("/static/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pyproject.toml",
        "/static/css/../../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/css/..%2f..%2fpyproject.toml",
        "/static//etc/passwd",
        "/static/..%5c..%5cpyproject.toml",
    ],
)
def test_no_file_outside_static_is_served(live_server, path):
    """Sent as written (http.client does not tidy dot segments away as httpx would)."""
    conn = http.client.HTTPConnection(urlsplit(live_server).netloc, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status in (400, 404)
    assert b"[project]" not in body and b"root:" not in body


def test_favicon_is_served_and_linked_from_both_base_templates(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content == (ROOT / "static/img/favicon.svg").read_bytes()
    link = f'<link rel="icon" href="/static/img/favicon.svg?v={digest("img/favicon.svg")}" type="image/svg+xml">'
    assert link in client.get("/login").text
    assert link in client.get("/u/preferences/not-a-token").text


async def test_pages_are_not_compressed_because_they_carry_the_csrf_token(staff):
    """BREACH: a page holding a secret (the CSRF token) next to text an attacker chooses (a search)
    must not be compressed, or the response sizes would give the secret away."""
    editor = await staff("editor")
    page = editor.get("/contacts?q=csrf", headers=GZIP)
    assert page.status_code == 200
    assert 'name="csrf-token"' in page.text
    assert "content-encoding" not in page.headers


async def test_api_responses_are_gzipped_because_no_browser_sends_their_credentials(api, db):
    """The API takes only Bearer keys, which no other site can make a browser send, so its JSON
    (and CSV exports) may be compressed without giving an attacker an oracle."""
    client = await api("viewer")
    small = client.get("/api/contacts", headers=GZIP)  # an empty page is not worth compressing
    assert small.status_code == 200 and "content-encoding" not in small.headers
    await audience(db, 20)
    await db.commit()
    listing = client.get("/api/contacts", headers=GZIP)
    assert listing.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in listing.headers["vary"]
    assert len(listing.json()["items"]) == 20


async def test_event_streams_and_the_open_pixel_are_never_compressed(staff, db, live_server):
    editor = await staff("editor")
    c = Campaign(name="Done", subject="Hi", status="cancelled")
    db.add(c)
    await db.commit()
    stream = editor.get(f"/campaigns/{c.id}/events", headers=GZIP)
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in stream.headers
    pixel = httpx.get(f"{live_server}/u/o/{make_token('open', 123)}.gif", headers=GZIP)
    assert pixel.headers["content-type"] == "image/gif"
    assert "content-encoding" not in pixel.headers
