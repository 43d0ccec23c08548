"""Automations and their versions.

An automation is created as a draft with a draft version of its flow. Editing changes the draft
version (creating one from the current version when there is none); publishing makes the draft
the current version, which new enrolments take, and activates a draft automation. Published
versions never change. Contacts already in the automation either finish on the version they
entered (the default) or move to the new one (`move_existing`): each keeps its step when the new
version has a step with the same id, otherwise goes on from the first following step the new
version still has, or completes when none remains. The name, trigger and re-entry rule are not
versioned: they change at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import (
    Automation,
    AutomationStatus,
    AutomationVersion,
    EnrolmentStatus,
    ExitReason,
    Reentry,
)
from webapp.automations.queries import automations as queries
from webapp.automations.queries import engine as engine_queries
from webapp.automations.queries import enrolments as enrolment_queries
from webapp.automations.queries.waits import NOW
from webapp.automations.schemas.automation import AutomationCreate, AutomationUpdate, PublishIn
from webapp.automations.schemas.flow import load_flow, walk
from webapp.automations.schemas.trigger import load_trigger
from webapp.automations.service import executors  # noqa: F401  (registers the step executors)
from webapp.automations.service.plan import plan
from webapp.automations.service.steps import runnable
from webapp.campaigns.service.readiness import ORGANISATION_PROBLEMS
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.settings.service import organisation as org_settings
from webapp.templates.service import templates

DEFAULT_FROM_MISSING = (
    "Email steps are sent from the organisation's default From address, which is not set. An admin sets it "
    "under Settings → Organisation."
)


@dataclass(frozen=True)
class AutomationPage:
    automations: list[Automation]
    next_cursor: str | None


async def create(session: AsyncSession, data: Mapping[str, Any]) -> Automation:
    """A draft automation and its first (draft) version. ValidationFailed naming each field."""
    values = _loaded(AutomationCreate, data, partial=False)
    steps = values.pop("steps", [])
    await _check_trigger(session, values["trigger"])
    await _check_references(session, steps)
    await _check_subjects(session, steps)
    values.setdefault("reentry", Reentry.ONCE.value)
    return await queries.add(session, values, steps)


async def update_draft(session: AsyncSession, automation_id: int, data: Mapping[str, Any]) -> Automation:
    """Change the name, trigger and re-entry rule at once, and the steps of the draft version."""
    automation = await _changeable(session, automation_id)
    values = _loaded(AutomationUpdate, data, partial=True)
    if "trigger" in values:
        await _check_trigger(session, values["trigger"])
    if "steps" in values:
        steps = values.pop("steps")
        await _check_references(session, steps)
        await _check_subjects(session, steps)
        draft = await draft_of(session, automation)
        draft.steps = steps
    for name, value in values.items():
        setattr(automation, name, value)
    automation.updated_at = datetime.now(UTC)
    await session.flush()
    return automation


async def draft_of(session: AsyncSession, automation: Automation) -> AutomationVersion:
    """The version being edited, made from the current one when there is none."""
    draft = await queries.draft_of(session, automation.id)
    if draft is None:
        current = await queries.version(session, automation.current_version_id or 0)
        draft = await queries.add_draft(session, automation.id, list(current.steps) if current else [])
    return draft


async def publish(session: AsyncSession, automation_id: int, move_existing: bool = False) -> AutomationVersion:
    """The draft becomes the current version. ValidationFailed when it cannot run (no steps, a step
    type without its executor, a template, list or webhook that is gone); Conflict when there is no
    draft or the automation is archived."""
    automation = await _changeable(session, automation_id)
    draft = await queries.draft_of(session, automation.id)
    if draft is None:
        raise Conflict("Nothing to publish: the current version has not been changed.")
    errors = {
        f"{path}.type": f"{step['type']} steps are not available yet."
        for path, step in walk(draft.steps)
        if not runnable(step["type"])
    }
    if not draft.steps:
        errors["steps"] = "Add at least one step before publishing."
    if any(step["type"] == "send_email" for _, step in walk(draft.steps)):
        errors |= await sender_problems(session)
    if errors:
        raise ValidationFailed(errors)
    await _check_references(session, draft.steps)
    now = datetime.now(UTC)
    draft.published_at = now
    automation.current_version_id = draft.id
    if automation.status == AutomationStatus.DRAFT.value:
        automation.status = AutomationStatus.ACTIVE.value
    automation.updated_at = now
    await session.flush()
    if move_existing:
        for old in await queries.older_versions(session, automation.id, draft.id):
            await _move(session, old, draft, now)
    return draft


async def sender_problems(session: AsyncSession) -> dict[str, str]:
    """What the organisation's settings lack for an email step to send, by settings field: the
    sender every message names, its postal address, and the From address email steps use."""
    org = await org_settings.load(session)
    problems = {name: message for name, message in ORGANISATION_PROBLEMS.items() if not getattr(org, name).strip()}
    if not org.default_from_email:
        problems["default_from_email"] = DEFAULT_FROM_MISSING
    return problems


async def publish_as_sent(session: AsyncSession, automation_id: int, data: Mapping[str, Any]) -> AutomationVersion:
    """publish() with the choice as a form or the API sent it (PublishIn)."""
    values = load(PublishIn, data)
    return await publish(session, automation_id, move_existing=values.get("move_existing", False))


async def _move(session: AsyncSession, old: AutomationVersion, new: AutomationVersion, now: datetime) -> None:
    old_plan, new_plan = plan(old.steps), plan(new.steps)
    in_use = await enrolment_queries.steps_in_use(session, old.id)
    await enrolment_queries.move_kept(session, old.id, new.id, [s for s in in_use if s in new_plan.nodes])
    for step_id in (s for s in in_use if s not in new_plan.nodes):
        ids = await enrolment_queries.on_step(session, old.id, step_id)
        target = old_plan.successor_in(step_id, new_plan)
        if target is None:
            await engine_queries.finish(session, ids, EnrolmentStatus.COMPLETED.value, None, now)
        else:  # due at once: the engine runs the step (a wait: starts it)
            await engine_queries.place(session, ids, new.id, target, NOW, now)


async def pause(session: AsyncSession, automation_id: int) -> Automation:
    """Stop enrolling and stop running steps; enrolments wait where they are."""
    return await _set_status(session, automation_id, AutomationStatus.ACTIVE, AutomationStatus.PAUSED)


async def resume(session: AsyncSession, automation_id: int) -> Automation:
    """Enrol and run steps again; steps that came due meanwhile run at once."""
    return await _set_status(session, automation_id, AutomationStatus.PAUSED, AutomationStatus.ACTIVE)


async def archive(session: AsyncSession, automation_id: int) -> Automation:
    """For good: every contact still in it exits (reason archived). Archiving twice is no error."""
    automation = await get(session, automation_id, for_update=True)
    if automation.status != AutomationStatus.ARCHIVED.value:
        now = datetime.now(UTC)
        automation.status = AutomationStatus.ARCHIVED.value
        automation.updated_at = now
        await enrolment_queries.finish(
            session, automation.id, None, status=EnrolmentStatus.EXITED, reason=ExitReason.ARCHIVED.value, now=now
        )
        await session.flush()
    return automation


async def get(session: AsyncSession, automation_id: int, *, for_update: bool = False) -> Automation:
    automation = await queries.get(session, automation_id, for_update=for_update)
    if automation is None:
        raise NotFound("No such automation.")
    return automation


async def versions_of(
    session: AsyncSession, automations: list[Automation]
) -> dict[int, tuple[AutomationVersion | None, AutomationVersion | None]]:
    """(current version, draft) of each automation, by automation id, in two queries."""
    current = await queries.versions(session, [a.current_version_id for a in automations if a.current_version_id])
    drafts = await queries.drafts(session, [a.id for a in automations])
    return {a.id: (current.get(a.current_version_id or 0), drafts.get(a.id)) for a in automations}


async def find(session: AsyncSession, *, limit: int, cursor: str | None) -> AutomationPage:
    found = await queries.find(session, limit=limit, cursor=cursor)
    return AutomationPage(found.automations, found.next_cursor)


def is_automation_cursor(cursor: str) -> bool:
    return queries.is_automation_cursor(cursor)


# ---- helpers -------------------------------------------------------------------------------------


def _loaded(schema: type[AutomationCreate] | type[AutomationUpdate], data: Mapping[str, Any], partial: bool) -> Values:
    """The automation's fields with its trigger and flow loaded too, every problem named at once."""
    errors: dict[str, str] = {}
    try:
        values = load(schema, data, partial=partial)
    except ValidationFailed as exc:
        errors, values = exc.errors, {}
    for name, loader in (("trigger", load_trigger), ("steps", load_flow)):
        if name in data and not any(key == name or key.startswith(name + ".") for key in errors):
            try:
                values[name] = loader(data[name])
            except ValidationFailed as exc:
                errors |= exc.errors
    if errors:
        raise ValidationFailed(errors)
    return values


async def _changeable(session: AsyncSession, automation_id: int) -> Automation:
    automation = await get(session, automation_id, for_update=True)
    if automation.status == AutomationStatus.ARCHIVED.value:
        raise Conflict("This automation is archived and cannot change.")
    return automation


async def _set_status(
    session: AsyncSession, automation_id: int, before: AutomationStatus, after: AutomationStatus
) -> Automation:
    automation = await get(session, automation_id, for_update=True)
    if automation.status not in (before.value, after.value):
        article = "an" if before.value[0] in "aeiou" else "a"
        raise Conflict(
            f"This automation is {automation.status}; only {article} {before.value} one can be {after.value}."
        )
    automation.status = after.value
    automation.updated_at = datetime.now(UTC)
    await session.flush()
    return automation


REFERENCES = {
    "send_email": ("template_id", queries.existing_templates, "No such template."),
    "add_to_list": ("list_id", queries.static_lists, "No such static list."),
    "remove_from_list": ("list_id", queries.static_lists, "No such static list."),
    "webhook": ("endpoint_id", queries.existing_endpoints, "No such webhook endpoint."),
}


# What a trigger names, by its field: a list (or segment) or a campaign that must exist, or the
# trigger could never fire.
TRIGGER_REFERENCES = {
    "list_id": (queries.existing_lists, "No list has this id."),
    "segment_id": (queries.segments, "No segment has this id (a static list has no rules to enter by)."),
    "campaign_id": (queries.existing_campaigns, "No campaign has this id."),
}


async def _check_trigger(session: AsyncSession, trigger: Values) -> None:
    errors = {
        f"trigger.{field}": message
        for field, (existing, message) in TRIGGER_REFERENCES.items()
        if isinstance(trigger.get(field), int) and trigger[field] not in await existing(session, [trigger[field]])
    }
    if errors:
        raise ValidationFailed(errors)


async def _check_references(session: AsyncSession, steps: list[Values]) -> None:
    """The templates, lists and webhook endpoints the steps name exist (by path)."""
    errors: dict[str, str] = {}
    for step_type, (field, existing, message) in REFERENCES.items():
        named = {f"{path}.{field}": step[field] for path, step in walk(steps) if step["type"] == step_type}
        if named:
            found = await existing(session, list(set(named.values())))
            errors |= {path: message for path, value in named.items() if value not in found}
    if errors:
        raise ValidationFailed(errors)


async def _check_subjects(session: AsyncSession, steps: list[Values]) -> None:
    """Each email step's own subject renders for the sample contact, as a campaign's is checked at its
    review: one that parses but fails (`{{ 1 / 0 }}`) would fail every message of the step."""
    errors: dict[str, str] = {}
    for path, step in walk(steps):
        if step["type"] == "send_email" and step.get("subject"):
            preview = await templates.preview(session, {"subject": step["subject"]})
            if message := next(iter(preview.errors.values()), ""):
                errors[f"{path}.subject"] = message
    if errors:
        raise ValidationFailed(errors)


async def using_list(session: AsyncSession, list_id: int) -> list[Automation]:
    """Automations a list or segment starts or that change it (not archived): what deleting it would break."""
    return await queries.using_list(session, list_id)
