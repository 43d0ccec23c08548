"""Security headers on every response, error pages and static files included (a before-send hook
runs for responses that no route produced too).

The policy lets pages run only the app's own script files: no inline scripts, no eval (htmx's
hx-on and trigger filters need eval, so the templates use neither). Styles may be inline: templates
set widths in style attributes, htmx adds its indicator styles, and the email previews (srcdoc
frames, which inherit this policy) show mail as it is written, with its own images from anywhere.
Nobody may frame the app (clickjacking), and no URL, whose tokens may sign a subscriber's links,
leaves the site as a referrer."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

_COMMON = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PAGES_POLICY = {
    **_COMMON,
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: https: http:",
    "font-src": "'self' data: https:",
}
# Swagger UI (/api/docs) starts with an inline script that holds the API description.
API_DOCS_POLICY = {
    **_COMMON,
    "script-src": "'self' 'unsafe-inline'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
}


def _header(policy: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in policy.items())


HEADERS = {
    "x-frame-options": "DENY",  # for browsers that predate frame-ancestors
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
# A message's web version (/u/view/) is mail as staff wrote it, shown on the app's own site: sandboxed
# (an origin of its own, no script, no form), with its images, styles and fonts from anywhere.
WEB_VERSION_POLICY = {
    "default-src": "'none'",
    "img-src": "data: https: http:",
    "style-src": "'unsafe-inline' https: http:",
    "font-src": "data: https: http:",
    "base-uri": "'none'",
    "form-action": "'none'",
    "frame-ancestors": "'none'",
    "sandbox": "allow-popups allow-popups-to-escape-sandbox",
}
PAGES_CSP, API_DOCS_CSP = _header(PAGES_POLICY), _header(API_DOCS_POLICY)
WEB_VERSION_CSP = _header(WEB_VERSION_POLICY)


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    docs = scope["path"] == "/api/docs" or scope["path"].startswith("/api/docs/")
    headers.setdefault("content-security-policy", API_DOCS_CSP if docs else PAGES_CSP)
