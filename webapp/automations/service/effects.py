"""The executors of the steps that change contacts or tell other systems: tag, untag, add to and
remove from a list, update a field, score points, and the outbound webhook. Each applies its effect to the
whole batch in one statement per tag, list or endpoint (see steps.py)."""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.queries import effects as queries
from webapp.automations.service.steps import StepBatch, executor
from webapp.contacts.schemas import ContactFilter
from webapp.contacts.service import add_tag, remove_tag
from webapp.core.errors import NotFound
from webapp.lists.service.lists import add_members, remove_members
from webapp.scoring import service as scoring
from webapp.webhooks.service.outbox import emit_to_endpoint

WEBHOOK_EVENT = "automation.step"


def _contacts(batch: StepBatch) -> ContactFilter:
    return ContactFilter(condition=queries.among(batch.contact_ids))


@executor("tag")
async def tag(session: AsyncSession, batch: StepBatch) -> None:
    for name in batch.step["tags"]:
        await add_tag(session, _contacts(batch), name)


@executor("untag")
async def untag(session: AsyncSession, batch: StepBatch) -> None:
    for name in batch.step["tags"]:
        await remove_tag(session, _contacts(batch), name)


@executor("add_to_list")
async def add_to_list(session: AsyncSession, batch: StepBatch) -> None:
    with suppress(NotFound):  # the list was deleted after the version was published: nothing to do
        await add_members(session, batch.step["list_id"], queries.among(batch.contact_ids))


@executor("remove_from_list")
async def remove_from_list(session: AsyncSession, batch: StepBatch) -> None:
    with suppress(NotFound):
        await remove_members(session, batch.step["list_id"], batch.contact_ids)


@executor("update_field")
async def update_field(session: AsyncSession, batch: StepBatch) -> None:
    await queries.set_custom_field(session, batch.contact_ids, batch.step["field"], batch.step.get("value"))


@executor("score")
async def score(session: AsyncSession, batch: StepBatch) -> None:
    """Points (negative: taken) kept through every recompute; a score reached may trigger others."""
    await scoring.add_points(session, batch.contact_ids, batch.step["points"], f"Automation #{batch.automation_id}")


@executor("webhook")
async def webhook(session: AsyncSession, batch: StepBatch) -> None:
    """One event per contact to the step's endpoint, through the outbox (signed, retried, and sent
    only to an address the SSRF rule allows); an endpoint deleted or disabled since gets nothing."""
    emails = await queries.emails(session, batch.contact_ids)
    items = [
        {
            "automation_id": batch.automation_id,
            "step_id": batch.step["id"],
            "enrolment_id": enrolment_id,
            "contact_id": contact_id,
            "email": emails.get(contact_id, ""),
        }
        for enrolment_id, contact_id in zip(batch.enrolment_ids, batch.contact_ids, strict=True)
    ]
    await emit_to_endpoint(session, batch.step["endpoint_id"], WEBHOOK_EVENT, items)
