"""The SSRF rule's address check: every way an IPv6 address can carry a private IPv4 address is
refused as that IPv4 address would be; public addresses pass."""

from __future__ import annotations

import asyncio

import pytest

from webapp.core.addresses import RefusedAddress
from webapp.webhooks.service.addresses import check


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"),  # IPv4-mapped
        ("http://[::127.0.0.1]/", "127.0.0.1 is a loopback address"),  # IPv4-compatible (deprecated)
        ("http://[64:ff9b::a00:1]/", "10.0.0.1 is a private address"),  # NAT64
        ("http://[2002:c0a8:0101::1]/", "192.168.1.1 is a private address"),  # 6to4
        ("http://[fc00::1]/", "fc00::1 is a private address"),  # unique local
        ("http://[::]/", ":: is an unspecified address"),
        ("http://[ff02::1]/", "ff02::1 is a multicast address"),
        ("http://240.0.0.1/", "240.0.0.1 is a private address"),  # reserved, also listed as private
        ("http://198.18.0.1/", "198.18.0.1 is a private address"),  # benchmarking
    ],
)
def test_private_addresses_in_any_form_are_refused(url, reason):
    with pytest.raises(RefusedAddress, match=reason):
        asyncio.run(check(url, allow_private=False))


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/hooks", "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8080/"]
)
def test_public_addresses_pass_and_are_the_address_connected_to(url):
    target = asyncio.run(check(url, allow_private=False))
    assert str(target.address) in target.connect_url and target.connect_url.endswith(url.split("/", 3)[3])


def test_an_allowed_endpoint_may_be_private():
    target = asyncio.run(check("http://[::1]:9000/x", allow_private=True))
    assert target.connect_url == "http://[::1]:9000/x" and target.host_header == "[::1]:9000"
