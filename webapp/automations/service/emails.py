"""The email step: each enrolment that reaches it gets one message, tracked like campaign mail.

The step's effect is a pending delivery per enrolment, inserted in the transaction that records the
step run, so the step happens exactly once; the message is then sent by the automation email
sender (delivery/automation_mail.py), which never sends a delivery twice. The delivery belongs to
the campaign that holds this version's email (made once, from the step's template): opens, clicks,
unsubscribes, bounces, rollups and conversions work on it as on any campaign's message, and the
step's report adds up its campaigns."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.analytics import service as analytics
from webapp.analytics.schemas import Activity
from webapp.automations.queries import emails as queries
from webapp.automations.schemas.emails import EmailStepReport
from webapp.automations.service.steps import StepBatch, executor
from webapp.conversions import service as conversions
from webapp.conversions.schemas import Revenue


@executor("send_email")
async def send_email(session: AsyncSession, batch: StepBatch) -> None:
    """Queue the batch's messages; a step whose template was deleted since it was published sends nothing."""
    campaign_id = await queries.step_campaign(
        session,
        automation_id=batch.automation_id,
        version_id=batch.version_id,
        step_id=batch.step["id"],
        template_id=batch.step["template_id"],
        subject=batch.step.get("subject") or None,
        from_name=batch.step.get("from_name") or None,
    )
    if campaign_id is not None:
        await queries.queue(session, campaign_id, batch.enrolment_ids)


async def reports(session: AsyncSession, automation_id: int) -> dict[str, EmailStepReport]:
    """Each email step that has sent anything, by step id, over all its versions."""
    by_step: dict[str, list[queries.StepCampaign]] = defaultdict(list)
    for row in await queries.step_campaigns(session, automation_id):
        by_step[row.step_id].append(row)
    return {step_id: await _report(session, step_id, rows) for step_id, rows in by_step.items()}


async def _report(session: AsyncSession, step_id: str, rows: list[queries.StepCampaign]) -> EmailStepReport:
    totals: dict[str, int] = defaultdict(int)
    orders: dict[str, int] = defaultdict(int)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        activity = await analytics.campaign_summary(session, row.campaign_id)
        for name in Activity.__struct_fields__:
            totals[name] += getattr(activity, name)
        for revenue in await conversions.campaign_revenue(session, row.campaign_id):
            orders[revenue.currency] += revenue.orders
            amounts[revenue.currency] += revenue.amount
    return EmailStepReport(
        step_id=step_id,
        activity=Activity(**totals),
        in_doubt=sum(row.in_doubt for row in rows),
        failed=sum(row.failed for row in rows),
        revenue=[Revenue(currency=c, orders=orders[c], amount=amounts[c]) for c in sorted(orders)],
    )
