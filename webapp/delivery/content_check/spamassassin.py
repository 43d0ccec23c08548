"""SpamAssassin's view of the message, asked of a spamd over the SPAMC protocol (aiospamc): its
score and the rules that matched, each as a finding. A spamd that is down or slow is reported as
such within the time limit, never waited for."""

from __future__ import annotations

import asyncio
import re

import aiospamc
from aiospamc.exceptions import ClientException, TimeoutException

from webapp.delivery.content_check.findings import SPAMASSASSIN, Finding

SPAMD_UNANSWERED = "SpamAssassin (spamd at {address}) did not answer within {timeout:g} s: {error}"
RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")
CONTINUED = re.compile(r"^\s{10,}(\S.*)$")  # a rule's description goes on, indented, on the next line
TABLE_RULE = re.compile(r"^-{4} -+")


async def examine(raw: bytes, address: str, seconds: float) -> tuple[float | None, list[Finding], list[str]]:
    """(SpamAssassin's score, its rules as findings, what could not be checked)."""
    host, _, port = address.rpartition(":")
    try:
        async with asyncio.timeout(seconds):
            response = await aiospamc.report(
                raw, host=host or address, port=int(port) if host else 783, timeout=aiospamc.Timeout(total=seconds)
            )
    except (TimeoutError, TimeoutException, ClientException, OSError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
        return None, [], [SPAMD_UNANSWERED.format(address=address, timeout=seconds, error=reason)]
    score = float(response.headers["Spam"].score)
    return score, rules(response.body.decode(errors="replace")), []


def rules(report: str) -> list[Finding]:
    """The matched rules of a spamd REPORT, those that move the score."""
    found: list[tuple[float, str, str]] = []
    in_table = False
    for line in report.splitlines():
        if TABLE_RULE.match(line):
            in_table = True
        elif in_table and (match := RULE.match(line)):
            found.append((float(match.group(1)), match.group(2), match.group(3).strip()))
        elif in_table and found and (more := CONTINUED.match(line)):
            points, name, description = found[-1]
            found[-1] = (points, name, f"{description} {more.group(1).strip()}")
    return [
        Finding(
            code=name,
            title=f"SpamAssassin: {name}",
            explanation=description,
            fix=_fix(name, points),
            points=points,
            source=SPAMASSASSIN,
        )
        for points, name, description in found
        if points
    ]


def _fix(name: str, points: float) -> str:
    if points < 0:
        return "Nothing to do: this rule speaks for the message."
    return f"Change what the rule describes; SpamAssassin's documentation of {name} says what it looks for."
