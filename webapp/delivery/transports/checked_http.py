"""The HTTP client of an API provider (sending and the Test button): each request's host passes
the SSRF rule (core/addresses.py) as it is made, and the request goes to the address that was
checked, so an API address an admin typed reaches no private network or cloud metadata service
unless the provider allows a private address, and a DNS answer that changes after the check
(DNS rebinding) cannot send it elsewhere. The URL's host stays in the Host header (what SES signs)
and in TLS (SNI and the certificate check)."""

from __future__ import annotations

import httpx

from webapp.core.addresses import checked_url
from webapp.providers.service import REFUSED


class CheckedTransport(httpx.AsyncBaseTransport):
    """Raises RefusedAddress, before any connection, for a host on a network the app may not reach."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = await checked_url(str(request.url), allow_private=self.allow_private, refused=REFUSED)
        request.url = httpx.URL(target.connect_url)
        request.extensions = {**request.extensions, "sni_hostname": target.host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def checked_client(*, allow_private: bool, timeout: httpx.Timeout) -> httpx.AsyncClient:
    # trust_env=False: no proxy from the environment may carry a request to where the check did not look.
    return httpx.AsyncClient(
        transport=CheckedTransport(allow_private=allow_private),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
