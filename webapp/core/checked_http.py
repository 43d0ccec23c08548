"""An HTTP client whose every request's host passes the SSRF rule (addresses.py), and whose request
goes to the address that was checked: an API provider's address an admin typed (sending and the
Test button), and the SNS certificate and confirmation URLs an Amazon SES webhook names, reach no
private network or cloud metadata service unless allowed, and a DNS answer that changes after the
check (DNS rebinding) cannot send them elsewhere. The URL's host stays in the Host header (what SES
signs) and in TLS (SNI and the certificate check).

A host's checked address serves for a minute: SES and Mailgun take one message a request, and a
lookup per request would be as many DNS queries as messages."""

from __future__ import annotations

import time

import httpx

from webapp.core.addresses import IPAddress, Target, checked_url

ADDRESS_SECONDS = 60.0


class CheckedTransport(httpx.AsyncBaseTransport):
    """Raises RefusedAddress, before any connection, for a host on a network the app may not reach."""

    def __init__(self, *, allow_private: bool, refused: str) -> None:
        self.allow_private = allow_private
        self.refused = refused  # why a private address is refused, in the words of the feature
        self.inner = httpx.AsyncHTTPTransport()
        self.addresses: dict[tuple[str, int | None], tuple[float, IPAddress]] = {}  # (host, port): (until, address)

    async def _address(self, url: httpx.URL) -> IPAddress:
        key = (url.host, url.port)
        kept = self.addresses.get(key)
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
        target = await checked_url(str(url), allow_private=self.allow_private, refused=self.refused)
        self.addresses[key] = (time.monotonic() + ADDRESS_SECONDS, target.address)
        return target.address

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = Target(url=str(request.url), host=request.url.host, address=await self._address(request.url))
        request.url = httpx.URL(target.connect_url)
        request.extensions = {**request.extensions, "sni_hostname": target.host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def checked_client(
    *, allow_private: bool, refused: str, timeout: httpx.Timeout | float, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    # trust_env=False: no proxy from the environment may carry a request to where the check did not look.
    return httpx.AsyncClient(
        transport=CheckedTransport(allow_private=allow_private, refused=refused),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers=headers,
    )
