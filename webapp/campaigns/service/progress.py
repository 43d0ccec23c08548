"""A campaign's figures, the same wherever they are shown (its page, the list, the API, the live
events): engagement rates as percentages, and sending progress with a rate and the time left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.models import CampaignStatus as S
from webapp.campaigns.queries import listing
from webapp.warmup.service import campaigns as warmup

MINUTE, HOUR = 60, 3600


def percent(part: int, whole: int) -> float:
    """part of whole in percent, to one decimal (0 of nothing is 0)."""
    return round(100.0 * part / whole, 1) if whole else 0.0


def rates(c: Campaign) -> dict[str, float]:
    """Opens, clicks and unsubscribes per message sent; bounces per message tried."""
    return {
        "open_rate": percent(c.opened_count, c.sent_count),
        "click_rate": percent(c.clicked_count, c.sent_count),
        "bounce_rate": percent(c.bounced_count, c.sent_count + c.failed_count),
        "unsubscribe_rate": percent(c.unsubscribed_count, c.sent_count),
    }


@dataclass(frozen=True)
class Progress:
    campaign_id: int
    status: str
    sent: int
    failed: int
    total: int
    rate: float | None = None  # messages per second
    skipped: int = 0  # no longer mailable when their turn came
    held: int = 0  # kept back by an A/B test until its winner is chosen: no time left can be told
    paced: bool = False  # under a warm-up plan: its daily maxima, not the rate, say when the rest goes

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped

    @property
    def remaining(self) -> int:
        return max(self.total - self.done, 0)

    @property
    def percent(self) -> float:
        if not self.total:
            return 100.0 if self.status == S.SENT.value else 0.0
        return min(percent(self.done, self.total), 100.0)

    @property
    def eta(self) -> str:
        if self.status != S.SENDING.value or not self.rate or not self.remaining or self.held or self.paced:
            return ""
        return duration(self.remaining / self.rate)


def duration(seconds: float) -> str:
    whole = max(round(seconds), 1)
    if whole < MINUTE:
        return f"{whole} s"
    if whole < HOUR:
        return f"{whole // MINUTE} min {whole % MINUTE} s"
    return f"{whole // HOUR} h {whole % HOUR // MINUTE} min"


def average_rate(started_at: datetime | None, done: int, until: datetime | None = None) -> float | None:
    """Messages per second since sending started (until completion, for a finished campaign)."""
    if started_at is None or not done:
        return None
    elapsed = ((until or datetime.now(UTC)) - started_at).total_seconds()
    return done / elapsed if elapsed >= 1 else None


def progress_of(c: Campaign, held: int = 0, paced: bool = False) -> Progress:
    rate = average_rate(c.started_at, c.sent_count + c.failed_count, c.completed_at)
    figures = (c.sent_count, c.failed_count, c.total_recipients, rate, c.skipped_count)
    return Progress(c.id, c.status, *figures, held=held, paced=paced)


async def current_progress(session: AsyncSession, c: Campaign) -> Progress:
    """The campaign's progress as stored, with the recipients an A/B test holds back while it waits,
    and whether a warm-up plan paces it."""
    if c.status != S.SENDING.value:
        return progress_of(c)
    held = await listing.held_count(session, c.id)
    return progress_of(c, held, await warmup.under_warmup(session, c.from_email))
