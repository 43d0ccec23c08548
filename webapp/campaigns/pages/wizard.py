"""Staff UI: the campaign wizard. details -> audience -> content -> settings -> review, then send now
or schedule. The campaign row is created as a draft by the first step and every step saves it, so
leaving half-way keeps a draft. Only drafts are edited here (a scheduled campaign is put back to
draft by its Edit button first).

Each step's form is converted to the campaign schema's fields and saved by the campaign service;
the audience and content steps also check what they need before the wizard goes on
(schemas/wizard.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service as abtests
from webapp.campaigns.models import DEFAULT_CAMPAIGN_SETTINGS, Campaign, CampaignStatus
from webapp.campaigns.pages.campaigns import refused
from webapp.campaigns.pages.views import ab_warnings, review_warnings
from webapp.campaigns.schemas.wizard import AudienceStep, ContentStep
from webapp.campaigns.service import campaigns, listing, readiness
from webapp.campaigns.service import content_check as kept_check
from webapp.campaigns.service.audience import count_for_lists
from webapp.campaigns.service.states import IllegalTransition
from webapp.core.access import EDITORS_ONLY
from webapp.core.audit_trail import CHANGES_NOTHING
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, form_ids, read_form
from webapp.core.http import AnyResponse
from webapp.core.schemas import Schema, load
from webapp.core.validation import time_zones
from webapp.delivery.content_check.campaigns import check_before_sending
from webapp.delivery.progress import announce
from webapp.delivery.test_send import MAX_RECIPIENTS, send_test
from webapp.lists.service.lists import find_lists
from webapp.settings.service import organisation as org_settings
from webapp.staff.service import users
from webapp.templates.service import markdown, templates

STEPS = ("details", "audience", "content", "settings", "review")
STEP_LABELS = {
    "details": "Details",
    "audience": "Audience",
    "content": "Content",
    "settings": "Settings",
    "review": "Review & send",
    "ab-test": "A/B test",  # optional, reached from Review (pages/ab_test.py), not a step of its own
}
STEP_OF_FIELD = {
    "name": "details",
    "subject": "details",
    "from_name": "details",
    "from_email": "details",
    "reply_to": "details",
    "list_ids": "audience",
    "html_content": "content",
    "markdown_content": "content",
    "text_content": "content",
    "template_id": "content",
    "settings": "settings",
}
DETAIL_FIELDS = ("name", "subject", "from_name", "from_email", "reply_to")
CONTENT_FIELDS = ("content_format", "markdown_content", "html_content", "text_content")
# What a step needs before the wizard goes on, besides what the campaign itself must be.
STEP_INPUTS: dict[str, type[Schema]] = {"audience": AudienceStep, "content": ContentStep}
# The settings a person chooses. Not suppress_duplicates: a contact on several lists always gets one
# copy (one delivery row per contact), so a switch for it would do nothing.
SETTING_LABELS = {
    "track_opens": ("Track opens", "Adds an invisible pixel to count opens."),
    "track_clicks": ("Track clicks", "Links go through a redirect that counts clicks."),
    "unsubscribe_link": ("Unsubscribe link", "A footer with an unsubscribe link and your postal address."),
    "web_version_link": (
        "Web version link",
        "A “View it in your browser” link above the content, to the message as each recipient got it.",
    ),
    "archive": (
        "Public archive",
        "Once sent, anyone can read it at /archive: with no recipient's data in it and nothing tracked.",
    ),
}
MAX_CHOICES = 500


@lru_cache
def timezones() -> list[tuple[str, str]]:
    """Every IANA zone, as the time zone select's options."""
    return [(zone, zone) for zone in sorted(time_zones())]


def _base_context(c: Campaign | None, step: str) -> dict[str, Any]:
    return {"c": c, "step": step, "steps": STEPS, "here": STEPS.index(step), "labels": STEP_LABELS}


async def _step_context(db: AsyncSession, c: Campaign, step: str, values: dict[str, Any]) -> dict[str, Any]:
    """What each step after the first shows besides the form values."""
    context = _base_context(c, step)
    if step == "audience":
        lists = (await find_lists(db, is_active=True, limit=MAX_CHOICES)).lists
        archived = [x for x in await listing.lists_of(db, c.id) if not x.is_active]
        context |= {"lists": archived + lists, "count": await count_for_lists(db, values["list_ids"])}
    elif step == "content":
        parts = {"subject": c.subject, **{name: values.get(name) or "" for name in CONTENT_FIELDS}}
        context |= {
            "templates": await templates.active_templates(db, MAX_CHOICES),
            "preview": await templates.preview(db, parts),
        }
    elif step == "settings":
        context["setting_labels"] = SETTING_LABELS
    elif step == "review":
        ready = await readiness.check(db, c)
        preview = await templates.preview(db, {part: getattr(c, part) for part in templates.PARTS})
        # Content that fails to render for the sample contact is refused when sent: it blocks here too.
        problems = ready.problems | {
            ("html_content" if name == "render" else name): message
            for name, message in preview.errors.items()
            if name not in ready.problems
        }
        ab_test = await abtests.test_of_campaign(db, c.id)
        context |= {
            "lists": await listing.lists_of(db, c.id),
            "count": ready.recipients,  # None: too slow to count here
            "problems": [(message, *_where_to_fix(c, name)) for name, message in problems.items()],
            "warnings": review_warnings(c) + ab_warnings(ab_test[1] if ab_test else [], ready.recipients),
            "timezones": timezones(),
            "max_recipients": MAX_RECIPIENTS,
            "setting_labels": SETTING_LABELS,
            "preview": preview,
            "ab_test": ab_test,
            "content_check": await kept_check.verdict(db, c),  # None: the card asks for it (content_check.py)
            "spamassassin": bool(get_settings().content_check.spamd),
        }
    return context


def _where_to_fix(c: Campaign, field: str) -> tuple[str, str]:
    """(link, label) to where a readiness problem is fixed: a wizard step, or the organisation settings."""
    if field in readiness.ORGANISATION_PROBLEMS:
        return "/settings/organisation", "Settings → Organisation"
    step = STEP_OF_FIELD.get(field, "details")
    return f"/campaigns/{c.id}/{step}", f"Fix in {STEP_LABELS[step]}"


async def _values(db: AsyncSession, c: Campaign, step: str) -> dict[str, Any]:
    """A step's form values as saved."""
    if step == "details":
        return {name: getattr(c, name) for name in DETAIL_FIELDS}
    if step == "audience":
        return {"list_ids": await campaigns.list_ids_of(db, c.id)}
    if step == "content":
        return {"template_id": c.template_id, **{name: getattr(c, name) for name in CONTENT_FIELDS}}
    if step == "settings":
        return {**DEFAULT_CAMPAIGN_SETTINGS, **c.settings}
    local = c.scheduled_at.astimezone(ZoneInfo(c.timezone)) if c.scheduled_at else None
    return {
        "scheduled_time": local.strftime("%Y-%m-%dT%H:%M") if local else "",
        "timezone": c.timezone,
        "recipients": "",
    }


async def _step_page(
    db: AsyncSession,
    c: Campaign | None,
    step: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    context = await _step_context(db, c, step, values) if c is not None else _base_context(None, step)
    context |= {"values": values, "errors": errors or {}} | extra
    return Template(f"campaigns/step_{step}.html", context=context, status_code=status_code)


def _content(form: FormFields) -> dict[str, str]:
    """The content as typed, with plain line ends (browsers send CRLF from a textarea)."""
    values = {name: first(form, name).replace("\r\n", "\n") for name in CONTENT_FIELDS}
    return values | {"content_format": values["content_format"] or "html"}


def _submitted(step: str, form: FormFields) -> dict[str, Any]:
    """A step's form as the campaign's fields: ticked lists as ids, checkboxes as true/false."""
    if step == "details":
        return {name: first(form, name) for name in DETAIL_FIELDS}
    if step == "audience":
        return {"list_ids": form_ids(form, "list_ids")}
    if step == "content" and first(form, "go") == "template":  # "Use this template": copy it in
        return {"template_id": first(form, "template_id")}
    if step == "content":
        return markdown.without_made_html(_content(form))
    return {"settings": {name: name in form for name in SETTING_LABELS}}


def _next_step(step: str, go: str) -> str:
    index = STEPS.index(step) + {"back": -1, "next": 1}.get(go, 0)
    return STEPS[max(0, min(index, len(STEPS) - 1))]


class CampaignWizardController(Controller):
    path = "/campaigns"

    @get("/new", opt=EDITORS_ONLY)
    async def new(self, db: Db) -> Template:
        org = await org_settings.load(db)
        values = {
            "name": "",
            "subject": "",
            "reply_to": "",
            "from_email": org.default_from_email,
            "from_name": org.default_from_name or org.organisation_name,
        }
        return await _step_page(db, None, "details", values)

    @post("/new")
    async def create(self, request: HTMXRequest, db: Db) -> AnyResponse:
        values = _submitted("details", await read_form(request))
        try:
            c = await campaigns.create_campaign(db, values, created_by=request.user.name)
        except ValidationFailed as exc:
            return await _step_page(db, None, "details", values, exc.errors, 422)
        flash(request, f"Draft '{c.name}' saved. Now choose who gets it.", "success")
        return after_change(request, f"/campaigns/{c.id}/audience")

    @get([f"/{{campaign_id:int}}/{step}" for step in STEPS], opt=EDITORS_ONLY)
    async def step(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        c = await campaigns.get_campaign(db, campaign_id)
        if c.status != CampaignStatus.DRAFT.value:
            flash(request, f"This campaign is {c.status}; only drafts are edited in the wizard.", "error")
            return Redirect(f"/campaigns/{campaign_id}", status_code=303)
        step = request.url.path.rsplit("/", 1)[-1]
        values = await _values(db, c, step)
        if step == "review":
            try:
                values["recipients"] = (await users.get_user(db, request.user.id)).email
            except NotFound:  # signed in with a key, or the account is gone: nobody to suggest
                values["recipients"] = ""
        return await _step_page(db, c, step, values)

    @post([f"/{{campaign_id:int}}/{step}" for step in STEPS[:-1]])
    async def save(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        step, form = request.url.path.rsplit("/", 1)[-1], await read_form(request)
        go = first(form, "go")
        c = await campaigns.get_draft(db, campaign_id)
        values = _submitted(step, form)
        try:
            if schema := STEP_INPUTS.get(step):
                load(schema, {**values, "go": go})
            c = await campaigns.update_campaign(db, campaign_id, values, copy_template=go == "template")
        except ValidationFailed as exc:
            await db.rollback()
            c = await campaigns.get_draft(db, campaign_id)
            shown = values if step in ("details", "audience") else {**await _values(db, c, step), **values}
            return await _step_page(db, c, step, shown, exc.errors, 422)
        if go == "template":
            flash(request, "Copied the template's content; change it here if you like.", "success")
        elif go not in ("next", "back"):  # "Save draft" stays on the step: say it saved
            flash(request, "Draft saved.", "success")
        return after_change(request, f"/campaigns/{c.id}/{_next_step(step, go)}")

    @post("/{campaign_id:int}/audience/count", opt=CHANGES_NOTHING)
    async def audience_count(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> Template:
        await campaigns.get_campaign(db, campaign_id)
        count = await count_for_lists(db, form_ids(await read_form(request), "list_ids"))
        return Template("campaigns/_audience_count.html", context={"count": count})

    @post("/{campaign_id:int}/content/preview", opt=CHANGES_NOTHING)
    async def preview(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> Template:
        c = await campaigns.get_campaign(db, campaign_id)
        parts = {"subject": c.subject, **_content(await read_form(request))}
        return Template("campaigns/_preview.html", context={"preview": await templates.preview(db, parts)})

    @post("/{campaign_id:int}/review/test")
    async def test_send(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> Template:
        c = await campaigns.get_campaign(db, campaign_id)
        recipients = first(await read_form(request), "recipients")
        # One address that is a contact's: rendered for that contact, as it would get it; else the sample.
        contact = await templates.find_contact(db, recipients) if "," not in recipients else None
        try:
            sent = await send_test(db, c, recipients, contact or templates.SAMPLE_CONTACT)
        except (ValidationFailed, Conflict) as exc:
            errors = field_errors(exc)
            if "recipients" in errors:
                result = {"error": errors["recipients"]}
            else:  # the content's or the sender's: not the To field's
                result = {
                    "content_error": " ".join(
                        f"{templates.TEST_SEND_NAMES.get(p, 'Content')}: {m}" for p, m in errors.items()
                    )
                }
            status_code = 422
        else:
            plural = "s" if len(sent) != 1 else ""
            who = contact.email if contact is not None else "a sample contact (Jane Doe)"
            result = {"ok": f"Sent {len(sent)} test email{plural}, rendered for {who}."}
            status_code = 200
        context = {
            "c": c,
            "values": {"recipients": recipients},
            "test_result": result,
            "max_recipients": MAX_RECIPIENTS,
        }
        if request.htmx:
            return Template("campaigns/_test_send.html", context=context, status_code=status_code)
        values = {**await _values(db, c, "review"), "recipients": recipients}
        return await _step_page(db, c, "review", values, status_code=status_code, test_result=result)

    @post("/{campaign_id:int}/schedule")
    async def schedule(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        values = {
            "scheduled_time": first(form, "scheduled_time"),
            "timezone": first(form, "timezone") or "UTC",
            "recipients": "",
        }
        try:
            await check_before_sending(db, campaign_id)
            c = await campaigns.schedule(db, campaign_id, values["scheduled_time"], values["timezone"])
        except IllegalTransition as exc:  # no longer a draft (a tab left open): its page says what it is now
            return await refused(request, db, campaign_id, exc)
        except (ValidationFailed, Conflict) as exc:
            await db.rollback()
            return await _step_page(
                db,
                await campaigns.get_campaign(db, campaign_id),
                "review",
                values,
                field_errors(exc),
                409 if isinstance(exc, Conflict) else 422,
            )
        await announce(db, c)
        local = c.scheduled_at.astimezone(ZoneInfo(c.timezone)) if c.scheduled_at else None
        when = local.strftime("%Y-%m-%d %H:%M %Z") if local else ""  # %Z: which of a time that happens twice
        flash(request, f"Scheduled '{c.name}' for {when} ({c.timezone}).", "success")
        return after_change(request, f"/campaigns/{c.id}")
