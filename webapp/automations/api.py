"""JSON API: /api/automations. Create an automation (a draft), edit it (the name, trigger and
re-entry at once; the steps in the draft version), publish the draft, pause, resume, archive
(DELETE), and enrol, remove and list its contacts. Thin: Litestar checks types (400), the service
applies the rules (404, 409 for the wrong state, 422 naming each field, e.g. steps.2.yes.0.template_id)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import Automation, EnrolmentStatus
from webapp.automations.schemas.automation import (
    AutomationCreate,
    AutomationOut,
    AutomationPageOut,
    AutomationUpdate,
    EnrolIn,
    EnrolledOut,
    EnrolmentPageOut,
    PublishIn,
    automation_out,
    enrolment_out,
)
from webapp.automations.service import automations, enrolments
from webapp.core.api import Cursor, Limit, checked_cursor, error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.errors import NotFound
from webapp.core.http import StaffRequest

AutomationId = Annotated[int, id_parameter("Automation id.")]
ContactId = Annotated[int, id_parameter("Contact id.")]
STEPS_HELP = (
    "`steps` is the flow: a list of steps `{id?, type, ...params, skip_if?}` (types send_email, wait, condition "
    "with yes/no lists of steps, tag, untag, add_to_list, remove_from_list, update_field, score, webhook, goal); "
    "`trigger` is `{kind, ...params}`; `reentry` once (default), always or every_n_days with `reentry_days`."
)


async def _out(db: AsyncSession, automation: Automation) -> AutomationOut:
    current, draft = (await automations.versions_of(db, [automation]))[automation.id]
    return automation_out(automation, current, draft)


class ApiAutomationsController(Controller):
    path = "/automations"
    tags = ("automations",)

    @post(
        "/",
        summary="Create an automation",
        status_code=201,
        responses=error_responses(422),
        description="A draft: its steps are the draft version's until published. " + STEPS_HELP,
    )
    async def create_automation(self, request: StaffRequest, data: JSONBody[AutomationCreate], db: Db) -> AutomationOut:
        return await _out(db, await automations.create(db, await sent_object(request)))

    @get(
        "/",
        summary="List automations",
        responses=error_responses(),
        description="Newest first, up to `limit`; pass `next_cursor` back as `cursor` for the next page.",
    )
    async def list_automations(self, db: Db, limit: Limit = 50, cursor: Cursor = None) -> AutomationPageOut:
        found = await automations.find(db, limit=limit, cursor=checked_cursor(cursor, automations.is_automation_cursor))
        versions = await automations.versions_of(db, found.automations)
        items = [automation_out(a, *versions[a.id]) for a in found.automations]
        return AutomationPageOut(items, found.next_cursor)

    @get("/{automation_id:int}", summary="Get an automation", responses=error_responses(404))
    async def get_automation(self, db: Db, automation_id: AutomationId) -> AutomationOut:
        return await _out(db, await automations.get(db, automation_id))

    @patch(
        "/{automation_id:int}",
        summary="Update an automation",
        responses=error_responses(404, 409, 422),
        description="Only the fields sent change. `name`, `trigger` and `reentry` take effect at once; `steps` "
        "replace the draft version's, live once published. An archived automation cannot change (409). " + STEPS_HELP,
    )
    async def update_automation(
        self, request: StaffRequest, data: JSONBody[AutomationUpdate], db: Db, automation_id: AutomationId
    ) -> AutomationOut:
        return await _out(db, await automations.update_draft(db, automation_id, await sent_object(request)))

    @delete(
        "/{automation_id:int}",
        summary="Archive an automation",
        responses=error_responses(404),
        description="For good: it takes no one in and every contact still in it exits (exit_reason archived). "
        "Its history stays.",
    )
    async def archive_automation(self, db: Db, automation_id: AutomationId) -> None:
        await automations.archive(db, automation_id)

    @post(
        "/{automation_id:int}/publish",
        summary="Publish an automation's draft",
        status_code=200,
        responses=error_responses(404, 409, 422),
        description="The draft becomes the version new enrolments take; a draft automation becomes active. "
        "Send `{}` for the default. "
        "`move_existing` true moves the contacts already in it to the new version: each keeps its step when "
        "the new version has a step with the same id, else goes on from the next step that remains, or "
        "completes; false (default) lets them finish on their version. 422 names steps that cannot run.",
    )
    async def publish_automation(
        self, request: StaffRequest, data: JSONBody[PublishIn], db: Db, automation_id: AutomationId
    ) -> AutomationOut:
        await automations.publish_as_sent(db, automation_id, await sent_object(request))
        return await _out(db, await automations.get(db, automation_id))

    @post(
        "/{automation_id:int}/pause",
        summary="Pause an automation",
        status_code=200,
        responses=error_responses(404, 409),
        description="It takes no one in and runs no steps; contacts wait where they are. Only an active one (409).",
    )
    async def pause_automation(self, db: Db, automation_id: AutomationId) -> AutomationOut:
        return await _out(db, await automations.pause(db, automation_id))

    @post(
        "/{automation_id:int}/resume",
        summary="Resume an automation",
        status_code=200,
        responses=error_responses(404, 409),
        description="Steps that came due while it was paused run at once. Only a paused one (409).",
    )
    async def resume_automation(self, db: Db, automation_id: AutomationId) -> AutomationOut:
        return await _out(db, await automations.resume(db, automation_id))

    @post(
        "/{automation_id:int}/enrolments",
        summary="Enrol a contact",
        status_code=200,
        responses=error_responses(404, 409, 422),
        description="The contact by `contact_id` or `email`, into an active automation (409 otherwise). "
        "`enrolled` is 0 when the re-entry rule keeps the contact out (already in it, or in it before) or "
        "the contact may not be mailed (unsubscribed, bounced, complained, unconfirmed or suppressed).",
    )
    async def enrol_contact(
        self, request: StaffRequest, data: JSONBody[EnrolIn], db: Db, automation_id: AutomationId
    ) -> EnrolledOut:
        return EnrolledOut(await enrolments.enrol_contact(db, automation_id, await sent_object(request)))

    @delete(
        "/{automation_id:int}/enrolments/{contact_id:int}",
        summary="Remove a contact",
        responses=error_responses(404),
        description="Ends the contact's active run (status removed); 404 when the contact is not in it.",
    )
    async def remove_contact(self, db: Db, automation_id: AutomationId, contact_id: ContactId) -> None:
        if not await enrolments.remove(db, automation_id, [contact_id]):
            raise NotFound("This contact is not in the automation.")

    @get(
        "/{automation_id:int}/enrolments",
        summary="List an automation's enrolments",
        responses=error_responses(404),
        description="Newest first, up to `limit`, optionally of one `status`; pass `next_cursor` back as "
        "`cursor` for the next page.",
    )
    async def list_enrolments(
        self,
        db: Db,
        automation_id: AutomationId,
        status: Annotated[
            EnrolmentStatus | None, Parameter(description="active, completed, exited or removed.")
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> EnrolmentPageOut:
        found = await enrolments.find(
            db,
            automation_id,
            status=status.value if status else None,
            limit=limit,
            cursor=checked_cursor(cursor, enrolments.is_enrolment_cursor),
        )
        return EnrolmentPageOut([enrolment_out(e) for e in found.enrolments], found.next_cursor)
