"""An automation as staff and programs write it, and the API's output shapes. The trigger and the
flow have modules of their own (trigger.py, flow.py); the service loads them through these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.automations.models import Automation, AutomationEnrolment, AutomationVersion, Reentry
from webapp.core.schemas import Schema, Values, email_address, flag, one_of, row_id, text, whole_number

REENTRIES = tuple(r.value for r in Reentry)
REENTRY_MESSAGE = "Choose when a contact may enter again: " + ", ".join(REENTRIES) + "."
MAX_REENTRY_DAYS = 3650

Name = Annotated[str, Meta(title="Name"), text(200, blank="Give the automation a name.")]
TriggerBody = Annotated[
    dict[str, Any],
    Meta(title="Trigger", description='{"kind": ..., params}, e.g. {"kind": "tag_added", "tag": "vip"}.'),
]
Steps = Annotated[
    list[dict[str, Any]],
    Meta(title="Steps", description="The flow: steps {id?, type, ...params, skip_if?}; a condition holds yes/no."),
]
ReentryField = Annotated[Reentry | UnsetType, Meta(title="Re-entry"), one_of(REENTRIES, REENTRY_MESSAGE)]
ReentryDays = Annotated[
    int | UnsetType,
    Meta(title="Re-entry days", description="For every_n_days: days between two entries."),
    whole_number(1, MAX_REENTRY_DAYS),
]


class AutomationCreate(Schema, kw_only=True):
    """A new automation, a draft: its steps are the first version's, published separately."""

    name: Name
    trigger: TriggerBody  # loaded by schemas.trigger.load_trigger (errors named trigger.*)
    reentry: ReentryField = UNSET
    reentry_days: ReentryDays = UNSET
    steps: Steps | UnsetType = UNSET  # loaded by schemas.flow.load_flow (errors named steps.*)


class AutomationUpdate(Schema, kw_only=True):
    """A partial update: the name, trigger and re-entry take effect at once; the steps change the
    draft version, which takes effect when published."""

    name: Annotated[str | UnsetType, Meta(title="Name"), text(200, blank="Give the automation a name.")] = UNSET
    trigger: TriggerBody | UnsetType = UNSET
    reentry: ReentryField = UNSET
    reentry_days: ReentryDays = UNSET
    steps: Steps | UnsetType = UNSET


class PublishIn(Schema, kw_only=True):
    move_existing: Annotated[
        bool | UnsetType,
        Meta(
            title="Move existing enrolments",
            description="true: contacts already in the automation move to the new version (a removed step's "
            "contacts go on from the next step that remains); false (default): they finish on their version.",
        ),
        flag(),
    ] = UNSET


class EnrolIn(Schema, kw_only=True):
    contact_id: Annotated[int | UnsetType, Meta(title="Contact"), row_id()] = UNSET
    email: Annotated[str | UnsetType, Meta(title="Email"), email_address()] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if ("contact_id" in values) == ("email" in values):
            return {"contact_id": "Name the contact by contact_id or by email (one of them)."}
        return {}


# ---- output --------------------------------------------------------------------------------------


class VersionOut(Struct, kw_only=True):
    id: int
    number: int
    steps: list[dict[str, Any]]
    published_at: datetime | None


class AutomationOut(Struct, kw_only=True):
    id: int
    name: str
    status: str
    trigger: dict[str, Any]
    reentry: str
    reentry_days: int
    current_version: VersionOut | None  # what new enrolments take
    draft: VersionOut | None  # the version being edited, published by POST .../publish
    created_at: datetime
    updated_at: datetime


class AutomationPageOut(Struct):
    items: list[AutomationOut]
    next_cursor: str | None


class EnrolmentOut(Struct, kw_only=True):
    id: int
    contact_id: int
    version_id: int
    run: int
    status: str
    step_id: str | None
    due_at: datetime
    enrolled_at: datetime
    finished_at: datetime | None
    exit_reason: str | None


class EnrolmentPageOut(Struct):
    items: list[EnrolmentOut]
    next_cursor: str | None


class EnrolledOut(Struct):
    enrolled: int  # 0: the automation's re-entry rule or the contact's state kept it out


def version_out(v: AutomationVersion | None) -> VersionOut | None:
    if v is None:
        return None
    return VersionOut(id=v.id, number=v.number, steps=v.steps, published_at=v.published_at)


def automation_out(a: Automation, current: AutomationVersion | None, draft: AutomationVersion | None) -> AutomationOut:
    return AutomationOut(
        id=a.id,
        name=a.name,
        status=a.status,
        trigger=a.trigger,
        reentry=a.reentry,
        reentry_days=a.reentry_days,
        current_version=version_out(current),
        draft=version_out(draft),
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def enrolment_out(e: AutomationEnrolment) -> EnrolmentOut:
    return EnrolmentOut(
        id=e.id,
        contact_id=e.contact_id,
        version_id=e.version_id,
        run=e.run,
        status=e.status,
        step_id=e.step_id,
        due_at=e.due_at,
        enrolled_at=e.enrolled_at,
        finished_at=e.finished_at,
        exit_reason=e.exit_reason,
    )
