"""The two requests the Amazon SES webhook makes itself: fetching SNS's signing certificate (only
from a URL sns.certificate_url accepted) and confirming a subscription (only for an allowlisted
topic, at a URL sns.subscribe_url accepted), each to an address the SSRF rule allows (a public one:
the URLs come in a request anybody can make). Certificates are kept in Redis for a day, shared by
every web process, and the parsed ones in a small in-process cache."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import httpx
from cryptography import x509
from redis.asyncio import Redis

from webapp.core.addresses import RefusedAddress
from webapp.core.checked_http import checked_client
from webapp.feedback.service.providers import Refused

CACHE_SECONDS = 24 * 3600
MAX_CERTIFICATE_BYTES = 16_384
TIMEOUT_SECONDS = 5.0
USER_AGENT = "Mailroom-Feedback/1"
REFUSED = "Amazon SNS is never on a private network."


def redis_key(url: str) -> str:
    return "mailroom:sns-certificate:" + hashlib.sha256(url.encode()).hexdigest()


def client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """No redirects: a certificate or confirmation served from elsewhere is not SNS's. `transport`
    (tests) stands in for Amazon SNS."""
    if transport is None:
        return checked_client(
            allow_private=False, refused=REFUSED, timeout=TIMEOUT_SECONDS, headers={"User-Agent": USER_AGENT}
        )
    return httpx.AsyncClient(
        timeout=TIMEOUT_SECONDS, follow_redirects=False, headers={"User-Agent": USER_AGENT}, transport=transport
    )


@lru_cache(maxsize=32)
def _parse(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


async def certificate(redis: Redis, http: httpx.AsyncClient, url: str) -> x509.Certificate:
    pem = await redis.get(redis_key(url))
    if pem is None:
        pem = await _fetch(http, url)
        await redis.set(redis_key(url), pem, ex=CACHE_SECONDS)
    try:
        return _parse(bytes(pem))
    except ValueError:
        raise Refused(401, "The signing certificate is not a PEM certificate.") from None


async def _fetch(http: httpx.AsyncClient, url: str) -> bytes:
    try:
        async with http.stream("GET", url) as response:
            if response.status_code != 200:
                raise Refused(401, f"The signing certificate could not be fetched ({response.status_code}).")
            pem = b""
            async for chunk in response.aiter_bytes():
                pem += chunk
                if len(pem) > MAX_CERTIFICATE_BYTES:
                    raise Refused(401, "The signing certificate is too large.")
    except httpx.HTTPError:
        raise Refused(503, "Amazon SNS could not be reached for the signing certificate; try again.") from None
    except RefusedAddress as exc:
        raise Refused(403, f"The signing certificate was not fetched: {exc}") from None
    try:
        _parse(pem)
    except ValueError:
        raise Refused(401, "The signing certificate is not a PEM certificate.") from None
    return pem


async def confirm(http: httpx.AsyncClient, subscribe_url: str) -> None:
    try:
        response = await http.get(subscribe_url)
    except httpx.HTTPError:
        raise Refused(503, "Amazon SNS could not be reached to confirm the subscription; try again.") from None
    except RefusedAddress as exc:
        raise Refused(403, f"The subscription was not confirmed: {exc}") from None
    if response.status_code != 200:
        raise Refused(502, f"Amazon SNS refused the subscription confirmation ({response.status_code}).")
