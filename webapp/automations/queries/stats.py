"""What the staff pages count: contacts per automation (enrolled, in it now), per step of a flow
(waiting on it, through it, left at it), and the addresses of enrolled contacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import AutomationEnrolment, AutomationStepRun, EnrolmentStatus, StepOutcome
from webapp.contacts.models import Contact

ACTIVE = EnrolmentStatus.ACTIVE.value
# A step run after which the contact is no longer in the automation.
LEFT = (StepOutcome.GOAL.value,)


@dataclass(frozen=True)
class Totals:
    enrolled: int = 0  # runs started, re-entries included
    active: int = 0  # in it now


@dataclass(frozen=True)
class StepCounts:
    waiting: int = 0  # active enrolments whose current step it is
    done: int = 0  # contacts it ran for (skipped and branched included)
    exited: int = 0  # contacts who left the automation at it


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


async def step_counts(session: AsyncSession, automation_id: int) -> dict[str, StepCounts]:
    """Per step id over all versions (a step keeps its id across versions)."""
    waiting = (
        select(AutomationEnrolment.step_id, func.count())
        .where(AutomationEnrolment.automation_id == automation_id, AutomationEnrolment.status == ACTIVE)
        .group_by(AutomationEnrolment.step_id)
    )
    runs = (
        select(
            AutomationStepRun.step_id,
            func.count(),
            func.count(case((AutomationStepRun.outcome.in_(LEFT), 1))),
        )
        .join(AutomationEnrolment, AutomationEnrolment.id == AutomationStepRun.enrolment_id)
        .where(AutomationEnrolment.automation_id == automation_id)
        .group_by(AutomationStepRun.step_id)
    )
    found: dict[str, StepCounts] = {}
    for step_id, count in await session.execute(waiting):
        if step_id is not None:
            found[step_id] = StepCounts(waiting=count)
    for step_id, done, exited in await session.execute(runs):
        found[step_id] = StepCounts(found.get(step_id, StepCounts()).waiting, done, exited)
    return found


async def emails(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, str]:
    query = select(Contact.id, Contact.email).where(Contact.id.in_(contact_ids))
    return {row[0]: row[1] for row in await session.execute(query)}
