"""What the staff pages count: contacts per automation (enrolled, in it now), and the addresses of
enrolled contacts. (Per step: service/enrolments.step_counts.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import AutomationEnrolment, EnrolmentStatus
from webapp.contacts.models import Contact

ACTIVE = EnrolmentStatus.ACTIVE.value


@dataclass(frozen=True)
class Totals:
    enrolled: int = 0  # runs started, re-entries included
    active: int = 0  # in it now


async def totals(session: AsyncSession, automation_ids: Sequence[int]) -> dict[int, Totals]:
    """Per automation, read from ix_automation_enrolments_automation_status_id."""
    query = (
        select(
            AutomationEnrolment.automation_id,
            func.count(),
            func.count().filter(AutomationEnrolment.status == ACTIVE),
        )
        .where(AutomationEnrolment.automation_id.in_(automation_ids))
        .group_by(AutomationEnrolment.automation_id)
    )
    return {row[0]: Totals(row[1], row[2]) for row in await session.execute(query)}


async def emails(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, str]:
    query = select(Contact.id, Contact.email).where(Contact.id.in_(contact_ids))
    return {row[0]: row[1] for row in await session.execute(query)}
