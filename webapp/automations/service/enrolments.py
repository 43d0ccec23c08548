"""Contacts entering and leaving an automation. Enrolling is set-based (one INSERT ... SELECT for
any number of contacts) and keeps out contacts the re-entry rule does not let in again and
contacts that may not be mailed (unsubscribed, bounced, complained, unconfirmed, inactive or on the
suppression list). Only an active automation takes contacts in. New enrolments take the current
version and start on its first step, due at once (a first step that is a wait starts when the engine
runs it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import AutomationEnrolment, AutomationStatus, EnrolmentStatus, ExitReason
from webapp.automations.queries import automations as automation_queries
from webapp.automations.queries import enrolments as queries
from webapp.automations.schemas.automation import EnrolIn
from webapp.automations.service.automations import get
from webapp.automations.service.plan import cached
from webapp.contacts.service import get_contact, id_by_email
from webapp.core.errors import Conflict, NotFound
from webapp.core.schemas import load


@dataclass(frozen=True)
class EnrolmentPage:
    enrolments: list[AutomationEnrolment]
    next_cursor: str | None


async def enrol(session: AsyncSession, automation_id: int, contact_ids: Sequence[int]) -> int:
    """Enrol these contacts (ids) in the automation as its re-entry rule allows; how many entered.
    0 for an automation that is not active. In the caller's transaction."""
    automation = await automation_queries.get(session, automation_id)
    if automation is None or automation.status != AutomationStatus.ACTIVE.value or not contact_ids:
        return 0
    version = await automation_queries.version(session, automation.current_version_id or 0)
    if version is None:
        return 0
    flow = cached(version.id, version.steps)
    if flow.first_id is None:
        return 0
    entry = queries.Entry(automation.id, version.id, flow.first_id, automation.reentry, automation.reentry_days)
    return await queries.enrol(session, entry, contact_ids, datetime.now(UTC))


async def enrol_contact(session: AsyncSession, automation_id: int, data: Mapping[str, Any]) -> int:
    """The API's enrolment of one contact, by contact_id or email: NotFound for an unknown contact,
    Conflict for an automation that is not active; 0 when its re-entry rule or the contact's state
    keeps the contact out."""
    values = load(EnrolIn, data)
    automation = await get(session, automation_id)
    if automation.status != AutomationStatus.ACTIVE.value:
        raise Conflict(f"This automation is {automation.status}; only an active one takes contacts in.")
    if "email" in values:
        contact_id = await id_by_email(session, values["email"])
        if contact_id is None:
            raise NotFound("No contact has this email address.", field="email")
    else:
        contact_id = (await get_contact(session, values["contact_id"])).id
    return await enrol(session, automation.id, [contact_id])


async def remove(session: AsyncSession, automation_id: int, contact_ids: Sequence[int]) -> int:
    """Take these contacts out of the automation (their active run ends, status removed); how many were in."""
    await get(session, automation_id)
    return await queries.finish(
        session,
        automation_id,
        list(contact_ids),
        status=EnrolmentStatus.REMOVED,
        reason=ExitReason.REMOVED.value,
        now=datetime.now(UTC),
    )


async def find(
    session: AsyncSession, automation_id: int, *, status: str | None, limit: int, cursor: str | None
) -> EnrolmentPage:
    await get(session, automation_id)
    found = await queries.find(session, automation_id, status=status, limit=limit, cursor=cursor)
    return EnrolmentPage(found.enrolments, found.next_cursor)


CONTACT_RUNS = 20  # the latest runs a contact's page shows


async def runs_of_contact(session: AsyncSession, contact_id: int) -> list[queries.ContactRun]:
    """The automations the contact is in or went through, latest first."""
    return await queries.runs_of_contact(session, contact_id, CONTACT_RUNS)


@dataclass(frozen=True)
class Totals:
    enrolled: int = 0  # runs ever started (re-entries count again)
    active: int = 0  # in the automation now


async def totals(session: AsyncSession, automation_ids: Sequence[int]) -> dict[int, Totals]:
    """Per automation id (the list of automations), in one query."""
    found = await queries.totals(session, automation_ids)
    return {automation_id: Totals(*found.get(automation_id, (0, 0))) for automation_id in automation_ids}


@dataclass
class StepCounts:
    waiting: int = 0  # active on the step (due now, or waiting for its wait to end)
    done: int = 0  # ran it (a condition: either branch; a goal: met or passed)
    skipped: int = 0  # passed it by its skip_if
    exited: int = 0  # left the automation from it (unmailable, archived, removed)
    branched_yes: int = 0
    branched_no: int = 0


async def step_counts(session: AsyncSession, automation_id: int) -> dict[str, StepCounts]:
    """Per step id, across every version (step ids are kept from one version to the next)."""
    counts: dict[str, StepCounts] = {}
    for step_id, what, count in await queries.step_counts(session, automation_id):
        found = counts.setdefault(step_id, StepCounts())
        if what in ("branched_yes", "branched_no", "goal"):
            found.done += count
        if what != "goal":
            setattr(found, what, getattr(found, what) + count)
    return counts


def is_enrolment_cursor(cursor: str) -> bool:
    return queries.is_enrolment_cursor(cursor)
