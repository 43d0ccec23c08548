"""A campaign's kind of mail, which routing tells apart: marketing unless it is an automation's
email step."""

from __future__ import annotations

import re

from sqlalchemy import text

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


async def test_a_contacts_email_history_links_each_email_to_the_page_that_reports_it(db, staff) -> None:
    """An automation's or a transactional email's campaign is a container: the contact's history
    names its kind and links to the automation or the template's messages, and the campaign's own
    address leads there too instead of showing a never-sent draft."""
    queued = await email_step_run(db, 1)
    contact_id = await db.scalar(text("SELECT contact_id FROM deliveries"))
    newsletter = await ready_campaign(db, [(await audience(db, 1, name="Readers")).id])
    template_id = await db.scalar(text("SELECT template_id FROM campaigns WHERE id = :c"), {"c": queued.campaign_id})
    receipts = Campaign(name="Receipt", subject="s", kind="transactional", template_id=template_id, status="sent")
    db.add(receipts)
    await db.flush()
    copy = "INSERT INTO deliveries (campaign_id, contact_id, email) SELECT :c, id, email FROM contacts WHERE id = :p"
    for campaign_id in (newsletter.id, receipts.id):
        await db.execute(text(copy), {"c": campaign_id, "p": contact_id})
    await db.commit()
    client = await staff("viewer")
    history = client.get(f"/contacts/{contact_id}").text
    history = history[history.index('id="history-heading"') :]
    links = re.findall(r'<td><a href="([^"]+)">[^<]+</a>(?: <span class="muted">(\w+)</span>)?</td>', history)
    assert links == [
        (f"/transactional/{template_id}", "transactional"),
        (f"/campaigns/{newsletter.id}", ""),
        (f"/automations/{queued.automation_id}", "automation"),
    ]
    step_page = client.get(f"/campaigns/{queued.campaign_id}", follow_redirects=False)
    assert (step_page.status_code, step_page.headers["location"]) == (302, f"/automations/{queued.automation_id}")
    receipts_page = client.get(f"/campaigns/{receipts.id}", follow_redirects=False)
    assert receipts_page.headers["location"] == f"/transactional/{template_id}"
    assert client.get(f"/campaigns/{newsletter.id}", follow_redirects=False).status_code == 200
