"""The SQL of the email step: the campaign that holds an email step as one published version sends
it (made once, from the step's template), the deliveries of a batch's enrolments, and which
campaigns are an automation's email steps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The campaign is a copy of the template as the version first sends it, so editing the template
# later never changes a published version's email (as with campaigns). Status `sent`: the campaign
# machinery never starts, pauses or completes it; its deliveries are sent by the automation email
# sender. Made by whichever worker comes first: the unique (version, step) keeps one.
CREATE_CAMPAIGN = text("""
INSERT INTO campaigns (name, subject, from_name, template_id, content_format, markdown_content, html_content,
                       text_content, status, created_by, automation_id, automation_version_id, automation_step_id,
                       materialised_at, kind)
SELECT left(a.name || ' · ' || t.name, 200), coalesce(CAST(:subject AS text), t.subject),
       coalesce(CAST(:from_name AS text), ''), t.id, t.content_format, t.markdown_content, t.html_content,
       t.text_content, 'sent',
       'automation', a.id, :version_id, :step_id, now(), 'automation'
FROM automations a, email_templates t
WHERE a.id = :automation_id AND t.id = :template_id
ON CONFLICT (automation_version_id, automation_step_id) DO NOTHING
""")

CAMPAIGN = text("SELECT id FROM campaigns WHERE automation_version_id = :version_id AND automation_step_id = :step_id")

# One message per enrolment, to the contact's address as it is now; a batch run again adds none.
QUEUE = text("""
WITH queued AS (
  INSERT INTO deliveries (campaign_id, contact_id, email, enrolment_id)
  SELECT :campaign_id, c.id, c.email, e.id
  FROM automation_enrolments e JOIN contacts c ON c.id = e.contact_id
  WHERE e.id = ANY(CAST(:enrolment_ids AS bigint[]))
  ORDER BY e.id
  ON CONFLICT (enrolment_id, campaign_id) WHERE enrolment_id IS NOT NULL DO NOTHING
  RETURNING 1
)
UPDATE campaigns SET total_recipients = total_recipients + (SELECT count(*) FROM queued), updated_at = now()
WHERE id = :campaign_id
""")

STEP_CAMPAIGNS = text("""
SELECT c.automation_step_id, c.id,
       (SELECT count(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'in_doubt') AS in_doubt,
       (SELECT count(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'failed') AS failed
FROM campaigns c WHERE c.automation_id = :automation_id ORDER BY c.automation_step_id, c.id
""")


async def step_campaign(
    session: AsyncSession,
    *,
    automation_id: int,
    version_id: int,
    step_id: str,
    template_id: int,
    subject: str | None,
    from_name: str | None,
) -> int | None:
    """The campaign of this version's email step, made now if needed; None when its template is gone."""
    values = {"version_id": version_id, "step_id": step_id}
    content = {"template_id": template_id, "subject": subject, "from_name": from_name}
    await session.execute(CREATE_CAMPAIGN, {**values, **content, "automation_id": automation_id})
    campaign_id: int | None = await session.scalar(CAMPAIGN, values)
    return campaign_id


async def queue(session: AsyncSession, campaign_id: int, enrolment_ids: Sequence[int]) -> None:
    """A pending delivery per enrolment (none twice), counted on the campaign."""
    await session.execute(QUEUE, {"campaign_id": campaign_id, "enrolment_ids": list(enrolment_ids)})


@dataclass(frozen=True)
class StepCampaign:
    step_id: str
    campaign_id: int
    in_doubt: int  # its messages left in doubt (delivery/automation_mail.py)
    failed: int  # its messages that could not be made or sent (a template error, a refusal)


async def step_campaigns(session: AsyncSession, automation_id: int) -> list[StepCampaign]:
    """Each email step's campaigns (one per published version that sent it)."""
    rows = await session.execute(STEP_CAMPAIGNS, {"automation_id": automation_id})
    return [StepCampaign(*row) for row in rows]
