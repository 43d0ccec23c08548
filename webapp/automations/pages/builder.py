"""What the builder page draws (templates/automations/builder.html and its partials): the
automation, the flow being edited (its draft, else its live version), the counts of each step, the
names the steps refer to, and at most one open form (`Open`): a new step in a slot, or a step's
edit or skip-rule form in its place. The page and each partial are drawn from this one context, so
a form sent back with its errors (with or without JavaScript) looks as it did."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import Automation, AutomationStatus, AutomationVersion
from webapp.automations.pages.flow import Slot
from webapp.automations.pages.forms import StepForm
from webapp.automations.pages.words import (
    REENTRY_LABELS,
    STEP_LABELS,
    TRIGGER_LABELS,
    WEEKDAYS,
    Lookup,
    describe_reentry,
    describe_skip,
    describe_step,
    describe_trigger,
)
from webapp.automations.schemas.flow import DATE_FIELDS, walk
from webapp.automations.schemas.trigger import GRADES, STAGES
from webapp.automations.service import automations, emails, enrolments, triggers
from webapp.core.access import Role
from webapp.core.http import StaffRequest
from webapp.lists.models import ListType
from webapp.lists.schemas.rule_view import build_view, builder_context, row_errors
from webapp.lists.schemas.rules import EMPTY_RULES
from webapp.lists.service import lists, segments
from webapp.scoring.schemas import STAGE_LABELS
from webapp.templates.service import templates
from webapp.webhooks.service import endpoints

RULES_URL = "/automations/{id}/steps/rules"
MAX_TEMPLATES = 500


@dataclass
class Open:
    """The form open in the flow: mode "new" (in `slot`), "edit" or "skip" (of `step_id`)."""

    mode: str
    form: StepForm
    slot: Slot | None = None
    step_id: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    focus: str = ""  # the rules builder's control to focus after one of its buttons

    @property
    def rules(self) -> Any:
        return self.form.rules if self.form.rules is not None else copy.deepcopy(EMPTY_RULES)


@dataclass(frozen=True)
class Versions:
    current: AutomationVersion | None
    draft: AutomationVersion | None

    @property
    def steps(self) -> list[dict[str, Any]]:
        shown = self.draft or self.current
        return list(shown.steps) if shown else []


async def versions(db: AsyncSession, a: Automation) -> Versions:
    return Versions(*(await automations.versions_of(db, [a]))[a.id])


async def choices(db: AsyncSession) -> dict[str, Any]:
    """The records the forms offer, and their names for the summaries."""
    picked = await segments.builder_choices(db)
    all_lists = await lists.all_lists(db)
    active = await templates.active_templates(db, MAX_TEMPLATES)
    hooks = await endpoints.list_endpoints(db)
    static = [(x.id, x.name) for x in all_lists if x.list_type == ListType.STATIC.value]
    segment_lists = [(x.id, x.name) for x in all_lists if x.list_type != ListType.STATIC.value]
    lookup = Lookup(
        templates={t.id: t.name for t in active},
        lists={x.id: x.name for x in all_lists},
        campaigns=dict(picked.campaigns),
        endpoints={e.id: e.url for e in hooks},
    )
    custom_dates = [f"custom.{key}" for key in picked.custom_keys]
    return {
        "names": lookup,
        "template_options": [("", "Choose a template…"), *((t.id, t.name) for t in active)],
        "static_list_options": [("", "Choose a list…"), *static],
        "segment_options": [("", "Choose a segment…"), *segment_lists],
        "campaign_options": [("", "Any campaign"), *picked.campaigns],
        "endpoint_options": [("", "Choose an endpoint…"), *((e.id, e.url) for e in hooks)],
        "grade_options": [("", "Any grade"), *((g, g) for g in GRADES)],
        "stage_options": [("", "Choose a stage…"), *((s, STAGE_LABELS[s]) for s in STAGES)],  # as contacts show them
        "trigger_kinds": [("", "Choose a trigger…"), *TRIGGER_LABELS.items()],
        "reentry_options": list(REENTRY_LABELS.items()),
        "step_type_options": [("", "Choose a step…"), *STEP_LABELS.items()],
        "date_fields": [*DATE_FIELDS, *custom_dates],
        "weekdays": WEEKDAYS,
        **builder_context(picked.static_lists, picked.campaigns, picked.custom_keys),
    }


async def context(
    db: AsyncSession,
    request: StaffRequest,
    a: Automation,
    *,
    open_form: Open | None = None,
    error: str = "",
    publish_error: str = "",
) -> dict[str, Any]:
    shown = await versions(db, a)
    picked = await choices(db)
    can_edit = request.user.can(Role.EDITOR) and a.status != AutomationStatus.ARCHIVED.value
    emails_to_publish = shown.draft is not None and any(s["type"] == "send_email" for _, s in walk(shown.draft.steps))
    rows: dict[str, dict[str, str]] = {}
    if open_form is not None:
        rows, _ = row_errors(_as_rules_errors(open_form.errors))
    return {
        **picked,
        "a": a,
        "current": shown.current,
        "draft": shown.draft,
        "steps": shown.steps,
        "editing_draft": shown.draft is not None,
        "can_edit": can_edit,
        "readonly": not can_edit,
        "totals": (await enrolments.totals(db, [a.id]))[a.id],
        "counts": await enrolments.step_counts(db, a.id),
        "rates": await emails.reports(db, a.id),  # email step id -> EmailStepReport
        "open": open_form,
        "tree": build_view(open_form.rules if open_form else EMPTY_RULES, rows),
        "focus": open_form.focus if open_form else "",
        "builder_url": RULES_URL.format(id=a.id),
        "start_slot": Slot("start"),
        "after_slot": lambda step_id: Slot("after", step_id),
        "branch_slot": lambda name, step_id: Slot(name, step_id),
        "slot_words": slot_words,
        "step_labels": STEP_LABELS,
        "describe_step": describe_step,
        "describe_skip": describe_skip,
        "trigger_words": describe_trigger(a.trigger, picked["names"]),
        "trigger_problem": await triggers.last_problem(db, a.id),  # (when, why) its last check enrolled nobody
        "reentry_words": describe_reentry(a.reentry, a.reentry_days),
        "error": error,
        "publish_error": publish_error,
        # What Settings -> Organisation lacks before a version that sends email can be published.
        "sender_missing": list((await automations.sender_problems(db)).values()) if emails_to_publish else [],
        "focus_flow": False,  # after a deletion, focus goes to the flow's heading
        "saved_step": "",  # after a save, focus goes to that step
    }


def _as_rules_errors(errors: dict[str, str]) -> dict[str, str]:
    """A step's rule errors (`rules.conditions[0].value`, or `skip_if...` on the skip form) named
    as the segment builder's rows know them."""
    return {
        "rules" + key.removeprefix("skip_if") if key.startswith("skip_if") else key: message
        for key, message in errors.items()
        if key.startswith(("rules", "skip_if"))
    }


def slot_words(slot: Slot) -> str:
    """What a screen reader hears after "+ Add a step"."""
    if slot.kind == "start":
        return "at the start"
    if slot.kind == "after":
        return "after this step"
    return f"at the start of the “{'Yes' if slot.kind == 'yes' else 'No'}” branch"
