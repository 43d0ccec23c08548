"""A campaign's kind of mail, which routing tells apart: marketing unless it is an automation's
email step."""

from __future__ import annotations

from tests.support.automation_mail import email_step_run
from tests.support.campaigns import audience, ready_campaign
from webapp.campaigns.models import Campaign


async def test_a_campaign_is_marketing_mail(db) -> None:
    email_list = await audience(db, 1)
    campaign = await ready_campaign(db, [email_list.id])
    await db.commit()
    assert (await db.get(Campaign, campaign.id)).kind == "marketing"


async def test_an_automation_email_steps_campaign_is_automation_mail(db) -> None:
    queued = await email_step_run(db, 1)
    assert (await db.get(Campaign, queued.campaign_id)).kind == "automation"
