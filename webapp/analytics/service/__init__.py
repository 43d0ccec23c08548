"""Analytics: rollups of the event log kept in the transactions that store the events, and the
figures reports, the dashboard and the API read from them.

Keeping the rollups (each caller passes only rows it has just inserted or just marked sent, in the
same transaction, so nothing is counted twice):
- roll_up_events(session, event_ids): email_events rows of any kind. A 'bounce' whose detail starts
  with "soft" is a soft bounce, any other a hard one; 'delivered' counts as delivered; 'deferred'
  counts nowhere.
- roll_up_sends(session, delivery_ids): deliveries that have just become sent.
- recount_audience(session): contacts added, opted out and bounced per day, for the last two days
  (the scheduler tick); audience_growth counts today again when someone looks.
- rebuild(session): every rollup again from the stored events (migration, benchmark).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics.queries import report, rollups
from webapp.analytics.schemas import (
    Activity,
    AudienceDay,
    CampaignActivity,
    ClientActivity,
    DailyAnalyticsOut,
    DomainActivity,
    LinkActivity,
    SeriesPoint,
    StatsOut,
    daily_analytics_out,
)
from webapp.analytics.service.classify import (
    BURST_SECONDS,
    OPEN_PREFETCH_SECONDS,
    SCANNER_CLICK_SECONDS,
    Agent,
    classify,
)
from webapp.core.errors import ValidationFailed
from webapp.core.redis import get_redis
from webapp.webhooks.service import outbox

ENGAGEMENT_EVENTS = ("email.opened", "email.clicked")
EVER = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
MAX_DAYS = 730
COMPARE_AT_MOST = 4
TODAY_COUNTED_WITHIN, TODAY_COUNTED_KEY = 30, "mailroom:analytics:today-counted"

__all__ = [
    "BURST_SECONDS",
    "OPEN_PREFETCH_SECONDS",
    "SCANNER_CLICK_SECONDS",
    "Agent",
    "classify",
]


async def roll_up_events(
    session: AsyncSession, event_ids: Sequence[int], between: tuple[datetime, datetime] | None = None
) -> None:
    """Count these just-inserted email_events rows into every rollup, and queue their webhook events:
    email.opened for a message's first open, and again for its first human open when the first was a
    machine's (an open or a click opens a message); email.clicked for every click. Each carries
    `machine`: a privacy proxy's or prefetcher's open, a security scanner's click. between: the
    earliest and latest time of these events, when the caller knows them (fewer partitions read)."""
    first, last = between or (EVER[0], EVER[1])
    rolled = await rollups.roll_up_events(session, event_ids, first, last)
    if not (rolled.opened or rolled.clicked):
        return
    wanted = await outbox.subscribed(session, ENGAGEMENT_EVENTS)
    for event_type, ids in (("email.opened", rolled.opened), ("email.clicked", rolled.clicked)):
        if event_type in wanted and ids:
            items = await rollups.engagement(session, ids)
            if event_type == "email.opened":
                items = [{key: value for key, value in item.items() if key not in ("link_id", "url")} for item in items]
            await outbox.emit_many(session, event_type, items)


async def roll_up_sends(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    """Count these just-sent deliveries into the hourly and per-domain rollups."""
    await rollups.roll_up_sends(session, delivery_ids)


async def recount_audience(session: AsyncSession) -> None:
    """Contacts added, opted out and bounced yesterday and today (UTC), counted again."""
    await rollups.recount_audience(session, datetime.now(UTC).date() - timedelta(days=1))


async def rebuild(session: AsyncSession) -> None:
    """Every rollup again from the stored events; counts of events already dropped by retention are
    lost, so this is for converting existing data, not for routine use."""
    await rollups.rebuild(session)


def checked_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed({"days": f"Must be a whole number of days from 1 to {MAX_DAYS}."})
    return days


# ---- reading ---------------------------------------------------------------------------------


async def campaign_summary(session: AsyncSession, campaign_id: int) -> Activity:
    """A campaign's totals: sends, opens and clicks (unique, human, total, machine), bounces by type,
    complaints, unsubscribes; its rates and CTOR are properties of the answer."""
    return await report.campaign_totals(session, campaign_id)


async def campaign_series(session: AsyncSession, campaign_id: int) -> list[SeriesPoint]:
    """A campaign's activity by hour for 48 hours from the start of sending, then by day."""
    return await report.series(session, campaign_id)


async def campaign_daily(session: AsyncSession, campaign_id: int, days: int) -> list[DailyAnalyticsOut]:
    """The last `days` UTC days of a campaign, one row each (the API's shape)."""
    rows = await report.daily(session, campaign_id, checked_days(days))
    return [daily_analytics_out(campaign_id, day, activity) for day, activity in rows]


async def link_clicks(session: AsyncSession, campaign_id: int) -> list[LinkActivity]:
    """Every tracked link of a campaign, most clicked first."""
    return await report.links(session, campaign_id)


async def client_breakdown(session: AsyncSession, campaign_id: int) -> list[ClientActivity]:
    """Opens by mail client and device, most unique opens first."""
    return await report.clients(session, campaign_id)


async def top_domains(session: AsyncSession, campaign_id: int, limit: int = 10) -> list[DomainActivity]:
    """The recipient domains a campaign went to most."""
    return await report.domains(session, campaign_id, limit)


async def audience_growth(session: AsyncSession, days: int) -> list[AudienceDay]:
    """Subscribed, unsubscribed and bounced per UTC day for the last `days` days, today included.
    Today is counted again when its count is older than TODAY_COUNTED_WITHIN seconds (across every
    web process), so a sign-up shows within that, not at the scheduler's next recount."""
    if await get_redis().set(TODAY_COUNTED_KEY, "1", nx=True, ex=TODAY_COUNTED_WITHIN):
        await rollups.recount_audience(session, datetime.now(UTC).date())
    return await report.audience(session, checked_days(days))


async def recent_campaigns(session: AsyncSession, limit: int = 10) -> list[CampaignActivity]:
    """The campaigns that started sending most recently, with their totals."""
    return await report.recent_campaigns(session, limit)


async def compare(session: AsyncSession, campaign_ids: Sequence[int]) -> list[CampaignActivity]:
    """Up to four campaigns' totals, in the order asked."""
    ids = list(dict.fromkeys(campaign_ids))
    if len(ids) > COMPARE_AT_MOST:
        raise ValidationFailed({"campaigns": f"Compare at most {COMPARE_AT_MOST} campaigns."})
    found = await report.campaigns(session, ids)
    if missing := sorted(set(ids) - {c.campaign_id for c in found}):
        raise ValidationFailed({"campaigns": f"No campaign has the id {', '.join(map(str, missing))}."})
    if unsent := [c.name for c in found if c.status in ("draft", "scheduled")]:
        raise ValidationFailed({"campaigns": f"Not sent yet, so nothing to compare: {', '.join(unsent)}."})
    return found


async def overall(session: AsyncSession) -> Activity:
    """Every campaign's activity together."""
    return await report.overall(session)


async def stats(session: AsyncSession) -> StatsOut:
    """The platform's figures (GET /api/stats)."""
    size = await report.audience_size(session)
    a = await report.overall(session)
    return StatsOut(
        total_contacts=size.total_contacts,
        active_contacts=size.active_contacts,
        total_campaigns=size.total_campaigns,
        sent_campaigns=size.sent_campaigns,
        emails_sent=a.sent,
        emails_delivered=a.delivered_or_not_bounced,
        emails_opened=a.human_unique_opens,
        emails_clicked=a.human_unique_clicks,
        emails_bounced=a.bounces,
        emails_complained=a.complaints,
        emails_unsubscribed=a.unsubscribes,
        overall_open_rate=a.open_rate,
        overall_click_rate=a.click_rate,
        overall_click_to_open_rate=a.click_to_open_rate,
        overall_bounce_rate=a.bounce_rate,
        overall_complaint_rate=a.complaint_rate,
        overall_unsubscribe_rate=a.unsubscribe_rate,
    )
