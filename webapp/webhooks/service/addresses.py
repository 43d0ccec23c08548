"""Where a webhook may go: its URL's host passes the SSRF rule (core/addresses.py), and the request
is sent to the address that was checked."""

from __future__ import annotations

from webapp.core.addresses import Target, checked_url

REFUSED = "webhooks only go to public addresses unless private addresses are allowed for this endpoint."


async def check(url: str, *, allow_private: bool) -> Target:
    """The address to send `url` to; raises RefusedAddress if any address of its host is refused."""
    return await checked_url(url, allow_private=allow_private, refused=REFUSED)
