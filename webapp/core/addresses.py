"""Where the app may connect to a host staff typed (SSRF): a webhook's URL, the bounce mailbox,
seed mailboxes, an API provider's address.
The host is resolved and every address it resolves to must be a public one, unless an admin
explicitly allowed private networks for it. The connection then goes to the address that was
checked, so a DNS answer that changes between the check and the connection (DNS rebinding)
cannot point it elsewhere.

No well-kept library does this for httpx (the known one, advocate, wraps requests and is
unmaintained), and the standard library's ipaddress module knows every range involved."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_TIMEOUT = 5.0


class RefusedAddress(Exception):
    """The host cannot be resolved, or is on a network the app may not reach."""


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
BROADCAST = ipaddress.IPv4Address("255.255.255.255")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to, where it carries one: mapped (::ffff:a.b.c.d),
    compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if (address in NAT64 or address in IPV4_COMPATIBLE) and int(address) & 0xFFFFFFFF > 1:  # not :: or ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refusal(address: IPAddress) -> tuple[IPAddress, str]:
    """The address judged (an IPv6 address's embedded IPv4 one) and, when it is off limits, what
    kind it is ("a loopback address"); "" for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and (ipv4 := _embedded_ipv4(address)) is not None:
        address = ipv4  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, refused in (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("the broadcast address", address == BROADCAST),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("not a public address", not address.is_global),  # e.g. shared address space 100.64.0.0/10
    ):
        if refused:
            return address, kind
    return address, ""


def is_public(address: IPAddress) -> bool:
    """Whether the address is on the internet (what an allowed private address is not)."""
    return not _refusal(address)[1]


def _described(host: str, address: IPAddress, judged: IPAddress, kind: str) -> str:
    """Why, in words: "10.0.0.5 is a private address", "db.internal resolves to 10.0.0.5, a private address"."""
    try:
        literal = ipaddress.ip_address(host.split("%")[0]) == address  # fe80::1%eth0 in a URL is fe80::1
    except ValueError:
        literal = False
    if not literal:
        return f"{host} resolves to {judged}, {kind}"
    return f"{judged} is {kind}" if judged == address else f"{judged} is {kind} ({host} stands for it)"


def host_port(host: str, port: int) -> str:
    """Where a server is, as people write it: an IPv6 address in brackets ([::1]:587, not ::1:587)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(unquote(host).strip("[]").split("%")[0])]  # scope ids dropped, as below
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        raise RefusedAddress(f"The host {host} could not be resolved.") from None
    # Scope ids (fe80::1%eth0) are dropped: such addresses are refused anyway.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def checked_address(host: str, port: int, *, allow_private: bool, refused: str) -> IPAddress:
    """The address to connect to for `host`; raises RefusedAddress if any address of the host is
    refused (`refused` tells staff what to do then, e.g. where private addresses can be allowed)."""
    found = await _resolve(host, port)
    if not found:
        raise RefusedAddress(f"The host {host} has no address.")
    if not allow_private:
        for address in found:
            judged, kind = _refusal(address)
            if kind:
                raise RefusedAddress(f"{_described(unquote(host).strip('[]'), address, judged, kind)}; {refused}")
    return found[0]


def literal_refusal(host: str, *, allow_private: bool, refused: str) -> str:
    """Why `host`, written as an IP address in any form the resolver reads (127.0.0.1, [::1],
    2130706433, 0x7f000001), may not be connected to; "" when it may, or when it is a name (its
    addresses are checked when connecting: they can change). For forms, so a refused address is
    not saved; no lookup is made."""
    if allow_private:
        return ""
    typed = unquote(host).strip("[]")
    try:
        infos = socket.getaddrinfo(typed, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return ""
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        judged, kind = _refusal(address)
        if kind:
            why = _described(typed, address, judged, kind)
            return f"{why[0].upper()}{why[1:]}; {refused}"
    return ""


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


async def checked_url(url: str, *, allow_private: bool, refused: str) -> Target:
    """Where to send `url`; raises RefusedAddress if any address of its host is refused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await checked_address(host, port, allow_private=allow_private, refused=refused)
    return Target(url=url, host=host, address=address)
