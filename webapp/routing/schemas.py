"""Routing inputs and the named groups of recipient domains."""

from __future__ import annotations

# Domains that share their receiving servers (and so their throttling and reputation): a rule or
# a throttle may name the group instead of each domain.
DOMAIN_GROUPS: dict[str, frozenset[str]] = {
    "google": frozenset({"gmail.com", "googlemail.com"}),
    "microsoft": frozenset(
        {"outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk", "hotmail.fr", "live.co.uk", "outlook.fr"}
    ),
    "yahoo": frozenset(
        {"yahoo.com", "ymail.com", "rocketmail.com", "aol.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.es"}
    ),
    "apple": frozenset({"icloud.com", "me.com", "mac.com"}),
    "gmx": frozenset({"gmx.de", "gmx.net", "gmx.com", "web.de"}),
}
GROUP_OF_DOMAIN = {domain: group for group, domains in DOMAIN_GROUPS.items() for domain in domains}
