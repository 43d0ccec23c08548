"""The authentication verdicts a mailbox provider wrote into a copy's headers (RFC 8601
Authentication-Results, or Received-SPF for SPF alone). The topmost header is the receiving
provider's; lower ones may come from anywhere, including a forger, so the first verdict per
method wins. A provider that writes no Authentication-Results may still seal the message with ARC
(RFC 8617): its ARC-Authentication-Results, the newest instance first, stand in.

Read leniently on purpose: Microsoft writes Authentication-Results without the authserv-id the RFC
requires, which the strict `authres` parser rejects."""

from __future__ import annotations

import re
from collections.abc import Sequence

METHODS = ("dkim", "spf", "dmarc")
COMMENT = re.compile(r"\([^()]*\)")  # innermost first, so nested comments go too
RESULT = re.compile(r"^\s*([A-Za-z0-9-]+)\s*=\s*([A-Za-z0-9-]+)")
ARC_INSTANCE = re.compile(r"^\s*i\s*=\s*(\d+)")


def _without_comments(value: str) -> str:
    while COMMENT.search(value):
        value = COMMENT.sub(" ", value)
    return value


def _instance(header: str) -> int:
    return int(match.group(1)) if (match := ARC_INSTANCE.match(header)) else 0


def verdicts(
    authentication_results: Sequence[str], received_spf: Sequence[str] = (), arc_results: Sequence[str] = ()
) -> dict[str, str]:
    """e.g. {"dkim": "pass", "spf": "softfail", "dmarc": "fail"}; a method no header names is absent."""
    found: dict[str, str] = {}
    for header in [*authentication_results, *sorted(arc_results, key=_instance, reverse=True)]:
        for part in _without_comments(" ".join(header.split())).split(";"):
            if (match := RESULT.match(part)) and (method := match.group(1).lower()) in METHODS:
                found.setdefault(method, match.group(2).lower())
    if "spf" not in found and received_spf and (words := received_spf[0].split()):
        found["spf"] = words[0].lower()
    return found
