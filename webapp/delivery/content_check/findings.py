"""What the content check found: each finding says what is wrong, why it matters to receivers and
how to fix it, with the points it adds to the score. SpamAssassin's rules keep its own points."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
