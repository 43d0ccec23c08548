"""What the campaign pages show, shared by the page handlers and the live stream: progress with a
send rate and ETA, the actions a campaign's status allows, and the engagement counters."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webapp.campaigns.models import Campaign
from webapp.campaigns.models import CampaignStatus as S
from webapp.campaigns.service.campaigns import DELETABLE
from webapp.campaigns.service.states import EDITABLE, TRANSITIONS
from webapp.delivery.progress import final_stats, rate
from webapp.settings.service.organisation import OrgSettings

RATE_WINDOW_SECONDS = 30.0
FINAL = frozenset({S.SENT.value, S.CANCELLED.value})  # nothing can happen to these any more


@dataclass(frozen=True)
class Progress:
    campaign_id: int
    status: str
    sent: int
    failed: int
    total: int
    rate: float | None = None  # messages per second

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def remaining(self) -> int:
        return max(self.total - self.done, 0)

    @property
    def percent(self) -> float:
        if not self.total:
            return 100.0 if self.status == S.SENT.value else 0.0
        return min(round(100.0 * self.done / self.total, 1), 100.0)

    @property
    def eta(self) -> str:
        if self.status != S.SENDING.value or not self.rate or not self.remaining:
            return ""
        return duration(self.remaining / self.rate)


def duration(seconds: float) -> str:
    seconds = max(round(seconds), 1)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def average_rate(started_at: datetime | None, done: int, until: datetime | None = None) -> float | None:
    """Messages per second since sending started (until completion, for a finished campaign)."""
    if started_at is None or not done:
        return None
    elapsed = ((until or datetime.now(UTC)) - started_at).total_seconds()
    return done / elapsed if elapsed >= 1 else None


def progress_of(c: Campaign) -> Progress:
    rate = average_rate(c.started_at, c.sent_count + c.failed_count, c.completed_at)
    return Progress(c.id, c.status, c.sent_count, c.failed_count, c.total_recipients, rate)


class RateMeter:
    """Messages per second over the last RATE_WINDOW_SECONDS of progress events."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, done: int, at: float) -> float | None:
        self.samples.append((at, done))
        while len(self.samples) > 2 and at - self.samples[0][0] > RATE_WINDOW_SECONDS:
            self.samples.popleft()
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 - t0 >= 1 and d1 >= d0 else None


def actions(status: str) -> frozenset[str]:
    """The buttons a campaign in this status gets (seed 000 "Campaign Statuses" actions)."""
    s = S(status)
    allowed = TRANSITIONS[s]
    found = {"duplicate"}
    if s in EDITABLE:
        found |= {"edit", "send"}
    if s is S.DRAFT:
        found.add("schedule")
    if S.PAUSED in allowed:
        found.add("pause")
    if s in (S.PAUSED, S.FAILED) and S.SENDING in allowed:
        found.add("resume")
    if S.CANCELLED in allowed:
        found.add("cancel")
    if s in DELETABLE:
        found.add("delete")
    return frozenset(found)


def status_context(c: Campaign, error: str = "") -> dict[str, Any]:
    """Everything campaigns/_status.html needs (the header with badge, reason and actions)."""
    return {"c": c, "actions": actions(c.status), "error": error, "timing": timing(c)}


def counters(c: Campaign) -> list[tuple[str, int, float | None]]:
    """(label, count, rate %) for the counters card; rates as progress.final_stats computes them."""
    stats = final_stats(c)
    return [
        ("Sent", c.sent_count, rate(c.sent_count, c.total_recipients) if c.total_recipients else None),
        ("Opened", c.opened_count, stats["open_rate"]),
        ("Clicked", c.clicked_count, stats["click_rate"]),
        ("Bounced", c.bounced_count, stats["bounce_rate"]),
        ("Unsubscribed", c.unsubscribed_count, stats["unsubscribe_rate"]),
    ]


def spam_signals(subject: str) -> list[str]:
    """What makes a subject line look like spam to filters and people."""
    found = []
    letters = [ch for ch in subject if ch.isalpha()]
    if len(letters) >= 8 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7:
        found.append("is mostly CAPITAL LETTERS")
    if subject.count("!") >= 2:
        found.append(f"has {subject.count('!')} exclamation marks")
    return found


def review_warnings(c: Campaign, org: OrgSettings) -> list[str]:
    """Things worth a second look before sending; none of them blocks it."""
    warnings = []
    if missing := org.missing_for_sending:
        warnings.append(
            f"The organisation's {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
            "Marketing mail must show who sent it and a postal address; an admin can add them under "
            "Settings → Organisation."
        )
    if "unsubscribe_url" not in c.html_content:
        if (c.settings or {}).get("unsubscribe_link", True):
            warnings.append(
                "The content has no {{ unsubscribe_url }} link. The footer adds one to every message, "
                "so recipients can still unsubscribe."
            )
        else:
            warnings.append(
                "No visible unsubscribe link: the content has no {{ unsubscribe_url }} and the footer "
                "link is turned off in Settings. Mail apps still offer one-click unsubscribe, but "
                "spam filters and the law (CAN-SPAM, GDPR) expect a visible link."
            )
    if not c.text_content.strip():
        warnings.append("There is no text part; one is generated from the HTML for mail apps that show plain text.")
    if signals := spam_signals(c.subject):
        warnings.append("The subject " + " and ".join(signals) + "; spam filters and readers distrust that.")
    return warnings


def local_time(value: datetime | None, zone: str) -> str:
    """A time in the campaign's time zone, named, e.g. "2026-01-15 10:00 Europe/Madrid"."""
    if value is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M ") + zone


def timing(c: Campaign) -> tuple[str, str]:
    """(what, when) for the campaign list and page: scheduled for, started or finished."""
    if c.status == S.SCHEDULED.value:
        return "Scheduled for", local_time(c.scheduled_at, c.timezone)
    if c.completed_at is not None:
        return ("Sent" if c.status == S.SENT.value else "Ended"), local_time(c.completed_at, c.timezone)
    if c.started_at is not None:
        return "Started", local_time(c.started_at, c.timezone)
    return "", ""
