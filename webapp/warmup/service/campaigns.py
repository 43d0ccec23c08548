"""Campaigns under warm-up: whether a campaign goes under a plan (then its most engaged recipients
go first), and what its page shows: how much it sent today and when the rest will go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.warmup import queries
from webapp.warmup.service.quota import PlanLimit, counted, limits_today
from webapp.warmup.service.schedule import next_day_start, today


def from_domain(from_email: str) -> str:
    return from_email.rpartition("@")[2].lower()


def _covering(limits: list[PlanLimit], from_email: str) -> list[PlanLimit]:
    """The plans a campaign's messages may go under: its From domain's, and every SMTP server's
    and provider's (which transport takes a message is decided message by message)."""
    domain = from_domain(from_email)
    return [p for p in limits if p.from_domain is None or p.from_domain == domain]


async def under_warmup(session: AsyncSession, from_email: str) -> bool:
    """Whether a campaign From this address is sent under a warm-up plan today."""
    return bool(_covering(await limits_today(session), from_email))


@dataclass(frozen=True)
class CoveringPlan:
    plan: PlanLimit
    counted: int  # messages that went under it today, every campaign's


@dataclass(frozen=True)
class CampaignWarmup:
    plans: list[CoveringPlan]
    sent_today: int  # this campaign's
    waiting: int  # this campaign's messages not sent yet
    next_attempt_at: datetime | None  # when the first of those held for later goes
    next_day: datetime  # when today's maxima start again


async def campaign_warmup(session: AsyncSession, campaign_id: int, from_email: str) -> CampaignWarmup | None:
    """None when no plan covers the campaign today."""
    covering = _covering(await limits_today(session), from_email)
    if not covering:
        return None
    day = today()
    plans = [CoveringPlan(p, await counted(p.plan_id, day)) for p in covering]
    found = await queries.campaign_today(session, campaign_id, datetime.combine(day, time(), tzinfo=UTC))
    return CampaignWarmup(plans, found.sent_today, found.waiting, found.next_attempt_at, next_day_start(day))
