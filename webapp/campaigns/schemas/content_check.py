"""The content check's settings form, and what /api/campaigns/{id}/content-check answers with."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from webapp.campaigns.models import Campaign
from webapp.core.schemas import Rule, Schema

MIN_THRESHOLD, MAX_THRESHOLD = 1.0, 100.0  # of the score that blocks sending


class FindingOut(Struct, kw_only=True):
    code: str  # e.g. "spf_missing", or the SpamAssassin rule's name
    source: str  # "mailroom" or "spamassassin"
    title: str
    explanation: str
    fix: str
    points: float


class ContentCheckOut(Struct, kw_only=True):
    """The score is SpamAssassin's (when configured and it answered) plus Mailroom's findings' points;
    at or over the threshold, sending and scheduling are refused (409) unless an admin overrode it."""

    campaign_id: int
    score: float
    threshold: float
    blocks_sending: bool
    spamassassin_score: float | None
    findings: list[FindingOut]
    unchecked: list[str]  # what could not be checked this time (spamd or DNS did not answer)
    checked_at: datetime
    overridden_by: str | None
    overridden_at: datetime | None


def content_check_out(c: Campaign, threshold: float, blocks_sending: bool) -> ContentCheckOut:
    report = c.content_check or {}
    return ContentCheckOut(
        campaign_id=c.id,
        score=report["score"],
        threshold=threshold,
        blocks_sending=blocks_sending,
        spamassassin_score=report.get("spamassassin_score"),
        findings=[
            FindingOut(
                code=f["code"],
                source=f["source"],
                title=f["title"],
                explanation=f["explanation"],
                fix=f["fix"],
                points=f["points"],
            )
            for f in report.get("findings", [])
        ],
        unchecked=list(report.get("unchecked", [])),
        checked_at=datetime.fromisoformat(report["checked_at"]),
        overridden_by=c.content_override_by or None,
        overridden_at=c.content_override_at,
    )


def _threshold(value: float, label: str) -> float:
    if not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
        raise ValueError(f"{label} must be between {MIN_THRESHOLD:g} and {MAX_THRESHOLD:g}.")
    return round(value, 1)


class ContentCheckSettingsIn(Schema, kw_only=True):
    threshold: Annotated[float, Meta(title="Score threshold"), Rule(_threshold)]
