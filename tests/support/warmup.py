"""Arrange warm-up plans the way the plan form saves them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.warmup.models import WarmupPlan
from webapp.warmup.service import create_plan


def plan_form(**changes) -> dict:
    """A plan's fields as the form posts them: a From-domain plan for example.com, from today."""
    form = {
        "name": "example.com warm-up",
        "scope": "from_domain",
        "from_domain": "example.com",
        "starts_on": datetime.now(UTC).date().isoformat(),
        "daily_limits": [str(50 * day) for day in range(1, 31)],
        "bounce_threshold": "5",
        "complaint_threshold": "0.3",
        "min_sample": "100",
        "is_active": "true",
    }
    return form | changes


async def domain_plan(session: AsyncSession, first_day: int, **changes) -> WarmupPlan:
    """A plan for example.com whose day 1 (today) allows `first_day` messages."""
    limits = [str(first_day)] + [str(first_day * 2)] * 29
    return await create_plan(session, plan_form(daily_limits=limits, **changes))


async def transport_plan(session: AsyncSession, first_day: int, **target: int) -> WarmupPlan:
    """A plan for one SMTP server (smtp_server_id=) or API provider (provider_id=) whose day 1
    (today) allows `first_day` messages."""
    limits = [str(first_day)] + [str(first_day * 2)] * 29
    scope = "smtp_server" if "smtp_server_id" in target else "provider"
    data = plan_form(name="New IP", scope=scope, daily_limits=limits, from_domain="", **target)
    return await create_plan(session, data)
