"""Complaint and bounce rates per campaign and per sending domain (the From address's domain), the
warnings they raise, and the pause that protects the sender's reputation.

- Complaint rate: complaints / messages delivered, counted as the campaign report counts them: what
  providers reported delivered, or, when more, the messages handed over that did not bounce (plain
  SMTP reports no deliveries, and a provider's reports arrive some time after the messages).
- Bounce rate: bounces / messages handed over (accepted or refused).
- Above 0.1 % complaints: a warning (Gmail's and Yahoo's bulk-sender guidance keeps spam reports
  under 0.1 %). From 0.3 %, where they start rejecting mail, a sending campaign is paused, once it
  has at least MIN_DELIVERED_TO_PAUSE messages delivered: below that a single complaint is a large
  rate by chance (1 in 20 is 5 %), so it warns and keeps sending.
- A sending domain's rates add up its campaigns that started in the last DOMAIN_WINDOW_DAYS days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.campaigns.service import campaigns
from webapp.feedback.queries import rates as queries
from webapp.feedback.queries.rates import Counts


@dataclass(frozen=True)
class Thresholds:
    complaint_warning: float = 0.001
    complaint_pause: float = 0.003
    min_delivered_to_pause: int = 1000
    domain_window_days: int = 30


THRESHOLDS = Thresholds()
PAUSED_FOR_COMPLAINTS = "Paused automatically: the complaint rate reached"


@dataclass(frozen=True)
class Rates:
    counts: Counts

    @property
    def delivered(self) -> int:
        c = self.counts
        return max(c.delivered, c.sent - c.bounces, 0)

    @property
    def complaint_rate(self) -> float:
        return self.counts.complaints / self.delivered if self.delivered else 0.0

    @property
    def bounce_rate(self) -> float:
        handed_over = self.counts.sent + self.counts.failed
        return self.counts.bounces / handed_over if handed_over else 0.0

    @property
    def warning(self) -> bool:
        return self.complaint_rate > THRESHOLDS.complaint_warning

    @property
    def over_pause_threshold(self) -> bool:
        return self.complaint_rate >= THRESHOLDS.complaint_pause

    @property
    def pauses(self) -> bool:
        """High enough, over enough messages, to stop sending."""
        return self.over_pause_threshold and self.delivered >= THRESHOLDS.min_delivered_to_pause


@dataclass(frozen=True)
class Alert:
    """A deliverability warning for the dashboard: about a campaign (campaign_id set) or a domain."""

    subject: str  # the campaign's name or the sending domain
    rates: Rates
    message: str
    campaign_id: int | None = None
    severe: bool = False  # at the pause threshold (the campaign was paused, or the domain is there)


def of_campaign(c: Campaign) -> Rates:
    """A campaign's rates from its loaded row (no query: its page has it already)."""
    return Rates(
        Counts(
            c.id,
            c.name,
            c.status,
            c.status_reason,
            c.sent_count,
            c.failed_count,
            c.delivered_count,
            c.bounced_count,
            c.complained_count,
        )
    )


async def by_domain(session: AsyncSession) -> list[tuple[str, Rates]]:
    """Each sending domain's rates over its recent campaigns, busiest first."""
    return [(c.subject, Rates(c)) for c in await queries.domain_counts(session, THRESHOLDS.domain_window_days)]


def percent(rate: float) -> str:
    return f"{rate * 100:.2f} %"


def describe(rates: Rates) -> str:
    c = rates.counts
    complaints = "1 complaint" if c.complaints == 1 else f"{c.complaints:,} complaints"
    delivered = "1 delivered message" if rates.delivered == 1 else f"{rates.delivered:,} delivered messages"
    return f"{complaints} in {delivered}"


async def alerts(session: AsyncSession) -> list[Alert]:
    """Campaigns (recent ones) and sending domains whose complaint rate is over the warning threshold."""
    found = []
    for counts in await queries.recent_campaigns_with_complaints(session, THRESHOLDS.domain_window_days):
        rates = Rates(counts)
        if rates.warning:
            paused = counts.status == CampaignStatus.PAUSED.value and counts.status_reason.startswith(
                PAUSED_FOR_COMPLAINTS
            )
            state = "paused" if paused else "over 0.1 %"
            message = f"Complaint rate {state}: {percent(rates.complaint_rate)}, {describe(rates)}."
            found.append(Alert(counts.subject, rates, message, counts.id, paused))
    for domain, rates in await by_domain(session):
        if rates.warning:
            message = f"Complaint rate of mail from {domain} over the last {THRESHOLDS.domain_window_days} days"
            message += f": {percent(rates.complaint_rate)}, {describe(rates)}."
            found.append(Alert(domain, rates, message, severe=rates.over_pause_threshold))
    return found


async def pause_over_threshold(session: AsyncSession, campaign_ids: Sequence[int]) -> list[int]:
    """Sending campaigns among these whose complaint rate now pauses them: paused, saying why."""
    paused = []
    for counts in await queries.campaign_counts(session, sorted(set(campaign_ids))):
        rates = Rates(counts)
        if counts.id is not None and counts.status == CampaignStatus.SENDING.value and rates.pauses:
            reason = (
                f"{PAUSED_FOR_COMPLAINTS} {percent(rates.complaint_rate)} ({describe(rates)}); mailbox providers start "
                "rejecting mail from 0.3 %. Find out why recipients report it as spam before resuming."
            )
            await campaigns.pause(session, counts.id, reason)
            paused.append(counts.id)
    return paused
