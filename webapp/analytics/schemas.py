"""What the analytics service answers (the report pages and the JSON API read these), and the
analytics API's output shapes (seed 000). Rates are percentages, rounded to two decimals; opens and
clicks are unique human ones unless a field says otherwise."""

from __future__ import annotations

from datetime import date, datetime

from msgspec import Struct


def rate(part: int, whole: int) -> float:
    """part of whole in percent; 0 when there is no whole."""
    return round(100 * part / whole, 2) if whole else 0.0


class Activity(Struct, frozen=True, kw_only=True):
    """Counts over some stretch of one campaign (or all of them): a rollup row summed."""

    sent: int = 0
    delivered: int = 0  # reported by a provider; see `delivered_or_not_bounced`
    opens: int = 0
    unique_opens: int = 0
    human_unique_opens: int = 0
    machine_opens: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    human_unique_clicks: int = 0
    scanner_clicks: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    unsubscribes: int = 0

    @property
    def bounces(self) -> int:
        return self.hard_bounces + self.soft_bounces

    @property
    def delivered_or_not_bounced(self) -> int:
        """Delivered as providers report it, or, where none reports, sent and not bounced."""
        return max(self.delivered, self.sent - self.bounces, 0)

    @property
    def open_rate(self) -> float:
        return rate(self.human_unique_opens, self.delivered_or_not_bounced)

    @property
    def click_rate(self) -> float:
        return rate(self.human_unique_clicks, self.delivered_or_not_bounced)

    @property
    def click_to_open_rate(self) -> float:
        """CTOR: of the readers who opened, how many clicked."""
        return rate(self.human_unique_clicks, self.human_unique_opens)

    @property
    def bounce_rate(self) -> float:
        return rate(self.bounces, self.sent)

    @property
    def complaint_rate(self) -> float:
        return rate(self.complaints, self.sent)

    @property
    def unsubscribe_rate(self) -> float:
        return rate(self.unsubscribes, self.sent)


class SeriesPoint(Struct, frozen=True, kw_only=True):
    """One bucket of a campaign's time series: an hour in its first 48 hours, a day after."""

    start: datetime
    hourly: bool
    activity: Activity


class LinkActivity(Struct, frozen=True, kw_only=True):
    link_id: int
    url: str
    clicks: int
    unique_clicks: int
    human_clicks: int


class ClientActivity(Struct, frozen=True, kw_only=True):
    client: str
    device: str
    opens: int
    unique_opens: int
    human_unique_opens: int


class DomainActivity(Struct, frozen=True, kw_only=True):
    domain: str
    sent: int
    opened: int
    human_opened: int
    clicked: int
    human_clicked: int
    bounced: int
    complained: int


class AudienceDay(Struct, frozen=True, kw_only=True):
    day: date
    subscribed: int
    unsubscribed: int
    bounced: int


class CampaignActivity(Struct, frozen=True, kw_only=True):
    """A campaign with its totals, for lists of campaigns and comparisons."""

    campaign_id: int
    name: str
    status: str
    started_at: datetime | None
    activity: Activity


# ---- the JSON API (seed 000) -----------------------------------------------------------------


class DailyAnalyticsOut(Struct, frozen=True, kw_only=True):
    campaign_id: int
    date: datetime  # midnight UTC of the day
    emails_sent: int
    emails_delivered: int
    emails_opened: int  # unique human opens
    emails_clicked: int  # unique human clicks
    emails_bounced: int
    emails_unsubscribed: int
    open_rate: float  # of emails_delivered
    click_rate: float  # of emails_delivered
    bounce_rate: float  # of emails_sent
    unsubscribe_rate: float  # of emails_sent


class StatsOut(Struct, frozen=True, kw_only=True):
    total_contacts: int
    active_contacts: int
    total_campaigns: int
    sent_campaigns: int
    emails_sent: int
    emails_delivered: int
    emails_opened: int
    emails_clicked: int
    emails_bounced: int
    emails_complained: int
    emails_unsubscribed: int
    overall_open_rate: float
    overall_click_rate: float
    overall_click_to_open_rate: float
    overall_bounce_rate: float
    overall_complaint_rate: float
    overall_unsubscribe_rate: float


def daily_analytics_out(campaign_id: int, day: datetime, a: Activity) -> DailyAnalyticsOut:
    return DailyAnalyticsOut(
        campaign_id=campaign_id,
        date=day,
        emails_sent=a.sent,
        emails_delivered=a.delivered_or_not_bounced,
        emails_opened=a.human_unique_opens,
        emails_clicked=a.human_unique_clicks,
        emails_bounced=a.bounces,
        emails_unsubscribed=a.unsubscribes,
        open_rate=a.open_rate,
        click_rate=a.click_rate,
        bounce_rate=a.bounce_rate,
        unsubscribe_rate=a.unsubscribe_rate,
    )
