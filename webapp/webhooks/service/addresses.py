"""Where a webhook may go: its URL's host passes the SSRF rule (core/addresses.py), and the request
is sent to the address that was checked."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from webapp.core.addresses import IPAddress, checked_address

REFUSED = "webhooks only go to public addresses unless private addresses are allowed for this endpoint."


@dataclass(frozen=True)
class Target:
    """A URL and the address it will be sent to."""

    url: str
    host: str  # as in the URL, for the Host header and TLS (SNI and certificate checks)
    address: IPAddress

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{host}:{parts.port}" if parts.port else host
        return parts._replace(netloc=netloc).geturl()

    @property
    def host_header(self) -> str:
        parts = urlsplit(self.url)
        return parts.netloc


async def check(url: str, *, allow_private: bool) -> Target:
    """The address to send `url` to; raises RefusedAddress if any address of its host is refused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await checked_address(host, port, allow_private=allow_private, refused=REFUSED)
    return Target(url=url, host=host, address=address)
