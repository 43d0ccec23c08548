"""Routing inputs and the named groups of recipient domains."""

from __future__ import annotations

import re
from typing import Annotated, Any

from msgspec import Meta

from webapp.campaigns.models import CampaignKind
from webapp.core.schemas import Rule, Schema, Values, flag, row_id, text, whole_number
from webapp.settings.schemas import DOMAIN

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

MESSAGE_KINDS = tuple(kind.value for kind in CampaignKind)
MAX_TARGETS = 10
MAX_DOMAINS = 200
TRANSPORT_KEY = re.compile(r"(smtp|provider):[1-9][0-9]{0,17}")


def _words(raw: Any, label: str) -> list[str]:
    """Text separated by commas or new lines, or a list of text; lower case, de-duplicated."""
    items = re.split(r"[,\s]+", raw) if isinstance(raw, str) else raw if isinstance(raw, list) else None
    if items is None or not all(isinstance(item, str) for item in items):
        raise ValueError(f"{label} must be text separated by commas, or a list of text.")
    return list(dict.fromkeys(word for item in items if (word := item.strip().lower())))


def _domains(raw: Any, label: str) -> tuple[str, ...]:
    domains = _words(raw, label)
    wrong = [d for d in domains if d not in DOMAIN_GROUPS and not DOMAIN.fullmatch(d)]
    if wrong:
        groups = ", ".join(DOMAIN_GROUPS)
        raise ValueError(f"'{wrong[0][:60]}' is neither a domain such as gmail.com nor a group ({groups}).")
    if len(domains) > MAX_DOMAINS:
        raise ValueError(f"Name at most {MAX_DOMAINS} domains in one rule.")
    return tuple(domains)


def _kinds(raw: Any, label: str) -> tuple[str, ...]:
    kinds = _words(raw, label)
    if any(kind not in MESSAGE_KINDS for kind in kinds):
        raise ValueError("A message kind is marketing, transactional or automation.")
    return tuple(kinds)


def _transport(raw: Any, label: str) -> str:
    if not TRANSPORT_KEY.fullmatch(raw):
        raise ValueError("Choose a transport.")
    return str(raw)


def _targets(targets: list[Values], label: str) -> list[Values]:
    if not targets:
        raise ValueError("Add at least one transport for this rule.")
    if len(targets) > MAX_TARGETS:
        raise ValueError(f"A rule may share its messages among at most {MAX_TARGETS} transports.")
    if len({t["transport"] for t in targets}) < len(targets):
        raise ValueError("Each transport may appear once in a rule.")
    return targets


class TargetInput(Schema, kw_only=True):
    """A transport ("smtp:<id>" or "provider:<id>") and its weight: its share of the rule's
    messages is its weight over the sum of the weights (before health lowers it)."""

    transport: Annotated[str, Meta(title="Transport"), Rule(_transport, missing="Choose a transport.")]
    weight: Annotated[int, Meta(title="Weight"), whole_number(1, 1000)]


class RuleInput(Schema, kw_only=True):
    """A routing rule. Empty domains, kinds or campaign: any. Rules are tried by position, lowest
    first; the first that matches a message decides its transports."""

    name: Annotated[str, Meta(title="Name"), text(200, blank="Enter a name for the rule.")]
    domains: Annotated[str | list[str], Meta(title="Recipient domains"), Rule(_domains, converts=True)] = ""
    kinds: Annotated[str | list[str], Meta(title="Message kinds"), Rule(_kinds, converts=True)] = ""
    campaign_id: Annotated[int | None, Meta(title="Campaign"), row_id("Choose a campaign.")] = None
    targets: Annotated[list[TargetInput], Meta(title="Transports"), Rule(_targets)]
    position: Annotated[int, Meta(title="Position"), whole_number(0, 10_000)] = 100
    is_active: Annotated[bool, Meta(title="Active"), flag()] = True


def _bucket(raw: Any, label: str) -> str:
    domains = _domains(raw, label)
    if len(domains) != 1:
        raise ValueError("Enter one domain, such as gmail.com, or one group.")
    return domains[0]


class ThrottleInput(Schema, kw_only=True):
    """At most per_minute messages a minute to a recipient domain or a group of domains."""

    bucket: Annotated[str, Meta(title="Domain or group"), text(253, blank="Enter a domain or a group."), Rule(_bucket)]
    per_minute: Annotated[int, Meta(title="Messages per minute"), whole_number(1, 1_000_000)]
