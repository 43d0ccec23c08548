"""What the content check found: each finding says what is wrong, why it matters to receivers and
how to fix it, with the points it adds to the score. SpamAssassin's rules keep its own points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

MAILROOM = "mailroom"
SPAMASSASSIN = "spamassassin"


@dataclass(frozen=True)
class Finding:
    code: str  # stable, e.g. "spf_missing", or a SpamAssassin rule name
    title: str
    explanation: str
    fix: str
    points: float
    source: str = MAILROOM


@dataclass(frozen=True)
class Report:
    """The score is SpamAssassin's (when it answered) plus the points of Mailroom's findings.
    `unchecked` says in words what could not be checked this time (spamd or DNS did not answer)."""

    findings: list[Finding]
    spamassassin_score: float | None = None  # None: not configured, or it did not answer
    unchecked: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        own = sum(f.points for f in self.findings if f.source == MAILROOM)
        return round(own + (self.spamassassin_score or 0.0), 1)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "score": self.score}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            findings=[Finding(**f) for f in data.get("findings", [])],
            spamassassin_score=data.get("spamassassin_score"),
            unchecked=list(data.get("unchecked", [])),
        )


def worst_of(reports: Sequence[tuple[str, Report]]) -> dict[str, Any]:
    """One report for the variants of an A/B test, as (label, report): the worst variant's score
    decides; a finding every variant has is listed once, one only some have names them."""
    if len(reports) == 1:
        return reports[0][1].as_dict()
    found: dict[tuple[str, str, str], tuple[Finding, list[str]]] = {}
    for label, report in reports:
        for finding in report.findings:
            found.setdefault((finding.code, finding.title, finding.explanation), (finding, []))[1].append(label)
    findings = [
        finding if len(labels) == len(reports) else replace(finding, title=f"{_variants(labels)}: {finding.title}")
        for finding, labels in found.values()
    ]
    scored = [r.spamassassin_score for _, r in reports if r.spamassassin_score is not None]
    return {
        "findings": [asdict(f) for f in findings],
        "spamassassin_score": max(scored) if scored else None,
        "unchecked": list(dict.fromkeys(note for _, r in reports for note in r.unchecked)),
        "score": max(r.score for _, r in reports),
        "variants": [{"label": label, "score": r.score} for label, r in reports],
    }


def _variants(labels: list[str]) -> str:
    return f"Variant {labels[0]}" if len(labels) == 1 else f"Variants {', '.join(labels)}"
