"""The warm-up feature's SQL: plans, and the messages sent under a plan (by the SMTP server that
took them, or by their campaign's From domain) as its daily count and its bounce and complaint
rates need them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.providers.models import Provider
from webapp.settings.models import SmtpServer
from webapp.warmup.models import WarmupPlan


async def plans(session: AsyncSession, *, active_only: bool = False) -> list[WarmupPlan]:
    query = select(WarmupPlan).order_by(WarmupPlan.name, WarmupPlan.id)
    if active_only:
        query = query.where(WarmupPlan.is_active)
    return list(await session.scalars(query))


async def active_plans_as_committed(session: AsyncSession) -> list[WarmupPlan]:
    """Active plans as last committed, each locked against change (FOR SHARE) until the caller's
    transaction ends: what is told to the send engine meanwhile cannot be overtaken by a release."""
    query = (
        select(WarmupPlan)
        .where(WarmupPlan.is_active)
        .order_by(WarmupPlan.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(query))


async def server_names(session: AsyncSession) -> dict[int, str]:
    return dict((await session.execute(select(SmtpServer.id, SmtpServer.name).order_by(SmtpServer.name))).all())


async def provider_names(session: AsyncSession) -> dict[int, str]:
    return dict((await session.execute(select(Provider.id, Provider.name).order_by(Provider.name))).all())


async def plan_id_for(
    session: AsyncSession, *, smtp_server_id: int | None, provider_id: int | None, from_domain: str | None
) -> int | None:
    """The plan that already covers this server, provider or domain, if any."""
    if smtp_server_id is not None:
        return await session.scalar(select(WarmupPlan.id).where(WarmupPlan.smtp_server_id == smtp_server_id))
    if provider_id is not None:
        return await session.scalar(select(WarmupPlan.id).where(WarmupPlan.provider_id == provider_id))
    return await session.scalar(select(WarmupPlan.id).where(WarmupPlan.from_domain == from_domain))


# A plan's messages: those its SMTP server or provider took, or those of campaigns From its domain
# (their refusals too, which name no transport). Bounced: refused at sending time or reported later.
# Only campaigns still sending or finished since then are read (their deliveries by campaign, through
# its index): the scheduler tick runs this for every plan, and old campaigns' rows are most rows.
PLAN_MESSAGES = """
FROM campaigns c JOIN deliveries d ON d.campaign_id = c.id
WHERE (c.completed_at IS NULL OR c.completed_at >= :since)
  AND CASE WHEN CAST(:server_id AS bigint) IS NOT NULL THEN d.smtp_server_id = :server_id
           WHEN CAST(:provider_id AS bigint) IS NOT NULL THEN d.provider_id = :provider_id
           ELSE lower(split_part(c.from_email, '@', 2)) = :domain END
  AND coalesce(d.sent_at, d.bounced_at) >= :since
"""

PLAN_COUNTS = text(f"""
SELECT count(*) AS handed, count(*) FILTER (WHERE d.sent_at IS NOT NULL) AS sent,
       count(*) FILTER (WHERE d.bounced_at IS NOT NULL OR d.status = 'bounced') AS bounces,
       count(*) FILTER (WHERE d.status = 'complained') AS complaints
{PLAN_MESSAGES}
""")


@dataclass(frozen=True)
class PlanCounts:
    handed: int  # sent, or refused by the receiving server
    sent: int
    bounces: int
    complaints: int


async def plan_counts(session: AsyncSession, plan: WarmupPlan, since: datetime) -> PlanCounts:
    """Messages sent, bounced and complained about under a plan since a moment."""
    values = {
        "server_id": plan.smtp_server_id,
        "provider_id": plan.provider_id,
        "domain": plan.from_domain,
        "since": since,
    }
    return PlanCounts(*(await session.execute(PLAN_COUNTS, values)).one())


CAMPAIGN_TODAY = text("""
SELECT count(*) FILTER (WHERE sent_at >= :since) AS sent_today,
       count(*) FILTER (WHERE status IN ('pending', 'sending')) AS waiting,
       min(next_attempt_at) FILTER (WHERE status = 'pending' AND next_attempt_at > now()) AS next_attempt_at
FROM deliveries WHERE campaign_id = :campaign_id
""")


@dataclass(frozen=True)
class CampaignToday:
    sent_today: int
    waiting: int  # not sent yet
    next_attempt_at: datetime | None  # when the first of those waiting for later is due


async def campaign_today(session: AsyncSession, campaign_id: int, since: datetime) -> CampaignToday:
    return CampaignToday(*(await session.execute(CAMPAIGN_TODAY, {"campaign_id": campaign_id, "since": since})).one())


# Held-back messages of a released plan go at once (not at their next check, minutes away).
BRING_FORWARD = text("""
UPDATE deliveries SET next_attempt_at = now()
WHERE status = 'pending' AND strpos(error_message, :marker) > 0 AND next_attempt_at > now()
""")


async def bring_forward(session: AsyncSession, error_marker: str) -> None:
    """Pending messages whose error says error_marker are due now."""
    await session.execute(BRING_FORWARD, {"marker": error_marker})
