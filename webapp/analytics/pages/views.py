"""What the analytics pages show, made from the analytics service's answers: the headline figures
and the charts. Times are UTC, as the rollups count them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape, unescape

from babel.numbers import format_currency

from webapp.analytics.schemas import (
    Activity,
    CampaignActivity,
    ClientActivity,
    DomainActivity,
    LinkActivity,
    SeriesPoint,
    rate,
)
from webapp.conversions.schemas import Revenue
from webapp.core.charts import Chart, Series, bar_chart, line_chart
from webapp.core.charts.scales import figure
from webapp.core.template_helpers import percent

HOURLY_FOR = timedelta(hours=48)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
NOTHING = Activity()


@dataclass(frozen=True)
class Headline:
    """One figure at the top of a report: its count, what it is as a rate, and the figures that
    belong beside it (all opens and machine opens beside the unique human ones)."""

    label: str
    value: str
    rate: str = ""
    beside: str = ""


def _count(n: int, noun: str) -> str:
    return f"{figure(n)} {noun}{'' if n == 1 else 's'}"


def headlines(a: Activity) -> list[Headline]:
    delivered = a.delivered_or_not_bounced
    return [
        Headline("Sent", figure(a.sent)),
        Headline("Delivered", figure(delivered), f"{percent(rate(delivered, a.sent))} of sent"),
        Headline(
            "Unique opens",
            figure(a.human_unique_opens),
            f"{percent(a.open_rate)} open rate",
            f"{_count(a.opens, 'open')} in all, {figure(a.machine_opens)} by machines",
        ),
        Headline(
            "Unique clicks",
            figure(a.human_unique_clicks),
            f"{percent(a.click_rate)} click rate, {percent(a.click_to_open_rate)} of openers (CTOR)",
            f"{_count(a.clicks, 'click')} in all, {figure(a.scanner_clicks)} by link scanners",
        ),
        Headline(
            "Bounces",
            figure(a.bounces),
            f"{percent(a.bounce_rate)} of sent",
            f"{figure(a.hard_bounces)} hard, {figure(a.soft_bounces)} soft",
        ),
        Headline("Complaints", figure(a.complaints), f"{percent(a.complaint_rate)} of sent"),
        Headline("Unsubscribes", figure(a.unsubscribes), f"{percent(a.unsubscribe_rate)} of sent"),
    ]


def revenue(per_currency: Sequence[Revenue]) -> list[Headline]:
    """One figure per currency: amounts in different currencies are never added together."""
    return [
        Headline(
            f"Revenue in {r.currency}",
            format_currency(r.amount, r.currency, locale="en"),
            f"{figure(r.orders)} order{'' if r.orders == 1 else 's'}",
        )
        for r in per_currency
    ]


def _engagement(activities: Sequence[Activity]) -> list[Series]:
    return [
        Series("Unique opens", [a.human_unique_opens for a in activities]),
        Series("Unique clicks", [a.human_unique_clicks for a in activities]),
        Series("All opens", [a.opens for a in activities]),
        Series("All clicks", [a.clicks for a in activities]),
    ]


def hourly_chart(points: Sequence[SeriesPoint], start: datetime | None, now: datetime) -> Chart:
    """Every hour of the first 48 from the start of sending (up to now), hours without activity
    included as zeros."""
    found = {p.start: p.activity for p in points if p.hourly}
    hours: list[datetime] = []
    if start is not None:
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour < start + HOURLY_FOR and hour <= now:
            hours.append(hour)
            hour += HOUR
    labels = [f"{h.day} {h:%b %H:%M}" for h in hours]
    activities = [found.get(h, NOTHING) for h in hours]
    return line_chart(
        "report-hourly", "Opens and clicks by hour", labels, _engagement(activities), heading="Hour (UTC)"
    )


def daily_chart(points: Sequence[SeriesPoint]) -> Chart:
    """Every day after the first 48 hours, from the first to the last with activity."""
    found = {p.start: p.activity for p in points if not p.hourly}
    days: list[datetime] = []
    if found:
        day, last = min(found), max(found)
        while day <= last:
            days.append(day)
            day += DAY
    labels = [f"{d.day} {d:%b}" for d in days]
    activities = [found.get(d, NOTHING) for d in days]
    return line_chart("report-daily", "Opens and clicks by day", labels, _engagement(activities), heading="Day (UTC)")


def links_chart(links: Sequence[LinkActivity]) -> Chart:
    return bar_chart(
        "report-links",
        "Clicks per link",
        [link.url for link in links],
        [Series("Clicks", [link.human_clicks for link in links])],
        heading="Link",
        shares=True,
    )


# A link in the email as rendered: its href, then everything up to its closing tag.
LINK = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(["'])(?P<url>[^"']*)\1[^>]*>.*?</a\s*>""", re.IGNORECASE | re.DOTALL)
# The badge's colour by the link's share of clicks: the hotter, the darker (white text on each is 4.5:1).
HEAT = ((0.3, "#b3261e"), (0.1, "#8f5500"), (0.0, "#4b5563"))
BADGE = (
    '<span style="display:inline-block;margin:0 4px;padding:1px 6px;border-radius:9px;font:bold 12px sans-serif;'
    'color:#fff;background:{colour}">{text}</span>'
)


def heat_on_email(html: str, links: Sequence[LinkActivity]) -> str:
    """The email with each tracked link's clicks and share in a badge after it, for the report's
    sandboxed preview (never sent)."""
    total = sum(link.human_clicks for link in links)
    by_url = {link.url: link for link in links}

    def badge(match: re.Match[str]) -> str:
        link = by_url.get(unescape(match.group("url")))
        if link is None:
            return match.group(0)
        share = link.human_clicks / total if total else 0.0
        colour = next(colour for floor, colour in HEAT if share >= floor)
        clicks = "1 click" if link.human_clicks == 1 else f"{figure(link.human_clicks)} clicks"
        text = escape(f"{clicks} · {percent(100 * share)}")
        return match.group(0) + BADGE.format(colour=colour, text=text)

    return LINK.sub(badge, html)


def clients_chart(clients: Sequence[ClientActivity]) -> Chart:
    return bar_chart(
        "report-clients",
        "Opens by mail client and device",
        [f"{c.client} on {c.device}" for c in clients],
        [Series("Unique opens", [c.human_unique_opens for c in clients])],  # people, as the headline
        heading="Client and device",
        shares=True,
    )


def domains_chart(domains: Sequence[DomainActivity]) -> Chart:
    return bar_chart(
        "report-domains",
        "Top recipient domains",
        [d.domain for d in domains],
        [
            Series("Sent", [d.sent for d in domains]),
            Series("Opened", [d.human_opened for d in domains]),
            Series("Clicked", [d.human_clicked for d in domains]),  # people, like Opened
        ],
        heading="Domain",
    )


# What the comparison shows of each campaign, and which of them are rates for its chart.
COMPARED_COUNTS: tuple[tuple[str, Callable[[Activity], float]], ...] = (
    ("Sent", lambda a: a.sent),
    ("Delivered", lambda a: a.delivered_or_not_bounced),
    ("Unique opens", lambda a: a.human_unique_opens),
    ("All opens", lambda a: a.opens),
    ("Unique clicks", lambda a: a.human_unique_clicks),
    ("Bounces", lambda a: a.bounces),
    ("Complaints", lambda a: a.complaints),
    ("Unsubscribes", lambda a: a.unsubscribes),
)
COMPARED_RATES: tuple[tuple[str, Callable[[Activity], float]], ...] = (
    ("Open rate", lambda a: a.open_rate),
    ("Click rate", lambda a: a.click_rate),
    ("CTOR", lambda a: a.click_to_open_rate),
    ("Bounce rate", lambda a: a.bounce_rate),
    ("Complaint rate", lambda a: a.complaint_rate),
    ("Unsubscribe rate", lambda a: a.unsubscribe_rate),
)


def comparison_rows(campaigns: Sequence[CampaignActivity]) -> list[list[str]]:
    """One row per figure, one column per campaign."""
    rows = [[name, *(figure(of(c.activity)) for c in campaigns)] for name, of in COMPARED_COUNTS]
    rows += [[name, *(percent(of(c.activity)) for c in campaigns)] for name, of in COMPARED_RATES]
    return rows


def comparison_over_time(compared: Sequence[tuple[CampaignActivity, Sequence[SeriesPoint]]]) -> Chart:
    """Each campaign's unique opens in each of its first 48 hours, counted from its own start, so
    campaigns sent on different days line up."""
    hours = range(int(HOURLY_FOR / HOUR) + 1)
    series = []
    for c, points in compared:
        opens = [0] * len(hours)
        if c.started_at is not None:
            first = c.started_at.replace(minute=0, second=0, microsecond=0)
            for p in points:
                after = int((p.start - first) / HOUR)
                if p.hourly and 0 <= after < len(opens):
                    opens[after] += p.activity.human_unique_opens
        series.append(Series(c.name, opens))
    labels = [f"+{h}h" for h in hours]
    return line_chart("compare-hours", "Unique opens by hour after sending started", labels, series, heading="Hour")


def comparison_chart(campaigns: Sequence[CampaignActivity]) -> Chart:
    return bar_chart(
        "compare-rates",
        "Rates side by side",
        [name for name, _ in COMPARED_RATES],
        [Series(c.name, [of(c.activity) for _, of in COMPARED_RATES]) for c in campaigns],
        heading="Rate",
        unit="%",
    )
