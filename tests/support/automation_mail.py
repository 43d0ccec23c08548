"""Arranging automation emails for tests: an email template, an automation whose one step sends it,
contacts enrolled, and the email step run for them as the engine runs it (the executor, in the
transaction that records the step), so the automation email sender has deliveries to send."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.automations import published
from tests.support.campaigns import HTML, audience
from webapp.automations.service.enrolments import enrol
from webapp.automations.service.steps import EXECUTORS, StepBatch
from webapp.settings.service import organisation as org_settings
from webapp.templates.models import EmailTemplate

EMAIL_STEP = "welcome-email"


@dataclass(frozen=True)
class Queued:
    automation_id: int
    campaign_id: int
    emails: set[str]  # the addresses the step's messages go to


async def email_template(db: AsyncSession, html: str = HTML) -> int:
    await org_settings.save(
        db,
        org_settings.OrgSettings(
            organisation_name="Mailroom Tests Ltd",
            postal_address="1 Test Street, Testville",
            default_from_email="news@mailroom.test",
            default_from_name="Mailroom",
        ),
    )
    template = EmailTemplate(name="Welcome", subject="Welcome {{ first_name }}", html_content=html)
    db.add(template)
    await db.flush()
    return template.id


async def email_step_run(db: AsyncSession, size: int, **step: object) -> Queued:
    """`size` contacts (person0@example.com ...) enrolled in an automation whose step is an email,
    and that step run for all of them; committed."""
    template_id = await email_template(db)
    await audience(db, size)
    automation_id = await published(db, [{"id": EMAIL_STEP, "type": "send_email", "template_id": template_id, **step}])
    contact_ids = list(await db.scalars(text("SELECT id FROM contacts ORDER BY id")))
    await enrol(db, automation_id, contact_ids)
    rows = (
        await db.execute(
            text("""SELECT e.id, e.contact_id, e.version_id FROM automation_enrolments e
                    WHERE e.automation_id = :a ORDER BY e.id"""),
            {"a": automation_id},
        )
    ).all()
    version_id = rows[0].version_id
    flow = await db.scalar(text("SELECT steps FROM automation_versions WHERE id = :v"), {"v": version_id})
    batch = StepBatch(
        automation_id=automation_id,
        version_id=version_id,
        step=flow[0],
        enrolment_ids=[r.id for r in rows],
        contact_ids=[r.contact_id for r in rows],
        now=await db.scalar(text("SELECT now()")),
    )
    await EXECUTORS["send_email"](db, batch)
    await db.commit()
    campaign_id = await db.scalar(text("SELECT id FROM campaigns WHERE automation_id = :a"), {"a": automation_id})
    return Queued(automation_id, campaign_id, {f"person{i}@example.com" for i in range(size)})


async def statuses(db: AsyncSession) -> Counter[str]:
    rows = await db.execute(text("SELECT status, count(*) FROM deliveries GROUP BY status"))
    await db.commit()
    return Counter(dict(rows.all()))
