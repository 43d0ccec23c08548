"""Campaign rules: what a campaign holds (its schema in schemas/campaign.py, plus the lists and
templates that must exist), what it needs before it can go out, and every status change staff and
the API make, through the state machine in states.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import DEFAULT_CAMPAIGN_SETTINGS, Campaign, CampaignKind, CampaignStatus
from webapp.campaigns.queries import records
from webapp.campaigns.schemas.campaign import (
    NAME_LENGTH,
    TIME_IN_PAST,
    CampaignCreate,
    CampaignUpdate,
    ScheduleIn,
    unknown_lists,
    utc_time,
)
from webapp.campaigns.service import content_check, readiness
from webapp.campaigns.service.states import DELETABLE, IllegalTransition, can_edit, check_editable, check_transition
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.core.validation import is_valid_id
from webapp.lists.service import lists
from webapp.templates.service import markdown, templates

S = CampaignStatus
PAUSED_BY_STAFF = "Paused by staff."
CANCELLED_BY_STAFF = "Cancelled by staff."


async def get_campaign(session: AsyncSession, campaign_id: int, *, for_update: bool = False) -> Campaign:
    """The campaign (its row locked until the transaction ends, for a change); NotFound if there is none."""
    campaign = None
    if is_valid_id(campaign_id):  # beyond bigint: no such campaign, not a database error
        if for_update:
            campaign = await records.locked(session, campaign_id)
        else:
            campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} does not exist.")
    return campaign


async def get_draft(session: AsyncSession, campaign_id: int) -> Campaign:
    """A campaign the wizard may change: only drafts (a scheduled one goes back to draft first)."""
    campaign = await get_campaign(session, campaign_id)
    if campaign.status != S.DRAFT.value:
        raise IllegalTransition(
            f"Only drafts can be edited and this campaign is {campaign.status}. "
            "Use Edit on its page (a scheduled campaign goes back to draft), or duplicate it.",
            "status",
        )
    return campaign


def _settings(current: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, bool]:
    """Every setting: the ones sent, the others as they were (or their default)."""
    merged = {**DEFAULT_CAMPAIGN_SETTINGS, **current, **sent}
    return {name: bool(merged[name]) for name in DEFAULT_CAMPAIGN_SETTINGS}


async def _copy_template(session: AsyncSession, values: Values, current_subject: str = "") -> None:
    """Put the chosen template's content (and its subject, when the campaign has none) in `values`."""
    try:
        template = await templates.get_template(session, values["template_id"])
    except NotFound as exc:
        raise ValidationFailed({"template_id": exc.message}) from None
    values |= {name: getattr(template, name) for name in templates.CONTENT_FIELDS}
    if not values.get("subject") and not current_subject:
        values["subject"] = template.subject


async def _check_template(session: AsyncSession, template_id: int | None) -> None:
    if template_id is not None:
        try:
            await templates.get_template(session, template_id)
        except NotFound as exc:
            raise ValidationFailed({"template_id": exc.message}) from None


async def _set_lists(session: AsyncSession, campaign_id: int, list_ids: Sequence[int]) -> None:
    if list_ids:
        found = await records.existing_list_ids(session, [i for i in list_ids if is_valid_id(i)])
        if missing := [i for i in list_ids if i not in found]:
            raise ValidationFailed({"list_ids": unknown_lists(missing)})
    await records.replace_lists(session, campaign_id, list_ids)


async def create_campaign(session: AsyncSession, data: Mapping[str, Any], created_by: str) -> Campaign:
    values = load(CampaignCreate, data)
    list_ids = values.pop("list_ids", None)
    if "settings" in values:
        values["settings"] = _settings({}, values["settings"])
    await markdown.make_html(values)
    if values.get("template_id") and not values.get("html_content"):
        await _copy_template(session, values)
    else:
        await _check_template(session, values.get("template_id"))
    campaign = Campaign(**values, created_by=created_by)
    session.add(campaign)
    await session.flush()
    if list_ids is not None:
        await _set_lists(session, campaign.id, list_ids)
    await session.refresh(campaign)
    return campaign


async def update_campaign(
    session: AsyncSession, campaign_id: int, data: Mapping[str, Any], *, copy_template: bool = False
) -> Campaign:
    """A changed template_id copies the template's content in (unless the content is given too);
    copy_template copies it even when the template is the one already chosen ("Use this template"
    again, after the content was changed)."""
    campaign = await get_campaign(session, campaign_id, for_update=True)
    check_editable(campaign.status)
    values = load(CampaignUpdate, data, partial=True)
    list_ids = values.pop("list_ids", None)
    if "settings" in values:
        values["settings"] = _settings(campaign.settings, values["settings"])
    await markdown.make_html(values, campaign)
    if "template_id" in values:
        await _check_template(session, values["template_id"])
        chosen = values["template_id"] and (copy_template or values["template_id"] != campaign.template_id)
        if chosen and "html_content" not in values:
            await _copy_template(session, values, campaign.subject)
    for name, value in values.items():
        setattr(campaign, name, value)
    if list_ids is not None:
        await _set_lists(session, campaign.id, list_ids)
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def list_ids_of(session: AsyncSession, campaign_id: int) -> list[int]:
    return await records.list_ids_of(session, campaign_id)


async def schedule(session: AsyncSession, campaign_id: int, scheduled_time: Any, timezone: Any = "UTC") -> Campaign:
    """Send at a time: a local time in `timezone`, or an ISO time with its own offset."""
    campaign = await get_campaign(session, campaign_id, for_update=True)
    if campaign.status != S.SCHEDULED.value:  # before the time: no time makes a sent campaign schedulable
        check_transition(campaign.status, S.SCHEDULED)
    values = load(ScheduleIn, {"scheduled_time": scheduled_time, "timezone": timezone})
    when = utc_time(values["scheduled_time"], values["timezone"])
    if when <= await records.now(session):
        raise ValidationFailed({"scheduled_time": TIME_IN_PAST})
    await readiness.require(session, campaign)
    await content_check.require_clear(session, campaign)
    campaign.status, campaign.status_reason = S.SCHEDULED.value, ""
    campaign.scheduled_at, campaign.timezone = when, values["timezone"]
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def send_now(session: AsyncSession, campaign_id: int) -> Campaign:
    """Mark the campaign sending; the worker's scheduler tick starts it within seconds."""
    campaign = await get_campaign(session, campaign_id, for_update=True)
    check_transition(campaign.status, S.SENDING)
    await readiness.require(session, campaign, count_audience=campaign.materialised_at is None)
    await content_check.require_clear(session, campaign)
    campaign.status, campaign.status_reason = S.SENDING.value, ""
    if campaign.started_at is None:
        campaign.started_at = await records.now(session)
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def pause(session: AsyncSession, campaign_id: int, reason: str = PAUSED_BY_STAFF) -> Campaign:
    return await _move(session, campaign_id, S.PAUSED, reason)


async def resume(session: AsyncSession, campaign_id: int) -> Campaign:
    """Paused -> sending, if it is still ready: claiming picks up exactly the rows not yet sent."""
    campaign = await get_campaign(session, campaign_id, for_update=True)
    if campaign.status != S.PAUSED.value:
        raise IllegalTransition(f"Only a paused campaign can be resumed, and this one is {campaign.status}.", "status")
    await readiness.require(session, campaign, count_audience=campaign.materialised_at is None)
    return await _move(session, campaign_id, S.SENDING, "")


async def cancel(session: AsyncSession, campaign_id: int) -> Campaign:
    """Scheduled, sending or paused -> cancelled. Its unsent deliveries end as `cancelled`, which the
    engine never claims; a row a worker holds right now is recorded by that worker."""
    campaign = await _move(session, campaign_id, S.CANCELLED, CANCELLED_BY_STAFF)
    await records.cancel_unsent(session, campaign_id)
    await records.cancel_ab_test(session, campaign_id)
    return campaign


async def unschedule(session: AsyncSession, campaign_id: int) -> Campaign:
    """Back to draft to edit a scheduled campaign. The time it was scheduled for stays, so that the
    review step offers it again; a draft never starts by itself, whatever its time."""
    return await _move(session, campaign_id, S.DRAFT, "")


async def open_for_editing(session: AsyncSession, campaign_id: int) -> Campaign:
    """A draft as it is; a scheduled campaign goes back to draft first, so it cannot start half-edited,
    and so does a failed one that never started (nothing was sent, so it can be sent afresh)."""
    campaign = await get_campaign(session, campaign_id)
    if not can_edit(campaign.status, started=campaign.materialised_at is not None):
        check_editable(campaign.status)  # says why not
    if campaign.status == S.FAILED.value:
        campaign = await _move(session, campaign_id, S.DRAFT, "")
        campaign.scheduled_at = campaign.started_at = campaign.completed_at = None
        await session.flush()
        return campaign
    if campaign.status == S.SCHEDULED.value:
        return await unschedule(session, campaign_id)
    return campaign


async def _move(session: AsyncSession, campaign_id: int, target: S, reason: str) -> Campaign:
    campaign = await get_campaign(session, campaign_id, for_update=True)
    check_transition(campaign.status, target)
    campaign.status, campaign.status_reason = target.value, reason
    if target is S.CANCELLED:
        campaign.completed_at = await records.now(session)
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def duplicate(
    session: AsyncSession, campaign_id: int, created_by: str, list_ids: Sequence[int] | None = None, name: str = ""
) -> Campaign:
    """A new draft with the campaign's content and settings, and its lists unless `list_ids`."""
    source = await get_campaign(session, campaign_id)
    copy = Campaign(
        name=(name or f"Copy of {source.name}")[:NAME_LENGTH],
        subject=source.subject,
        from_name=source.from_name,
        from_email=source.from_email,
        reply_to=source.reply_to,
        template_id=source.template_id,
        **{name: getattr(source, name) for name in templates.CONTENT_FIELDS},
        settings=dict(source.settings),
        timezone=source.timezone,
        created_by=created_by,
    )
    session.add(copy)
    await session.flush()
    if list_ids is None:
        list_ids = await records.list_ids_of(session, campaign_id)
    await _set_lists(session, copy.id, list_ids)
    await session.refresh(copy)
    return copy


async def resend_to_non_openers(session: AsyncSession, campaign_id: int, created_by: str) -> Campaign:
    """A draft copy of a sent campaign for those it reached who have not opened it: its audience is
    a dynamic segment, so whoever opens the first one before the copy goes out is left out too."""
    source = await get_campaign(session, campaign_id)
    if source.status != CampaignStatus.SENT.value or source.kind != CampaignKind.MARKETING.value:
        raise Conflict(
            f"Only a sent campaign goes again to those who did not open it; this one is {source.status}.", "status"
        )
    segment = await lists.non_openers(session, source.id, source.name, created_by)
    return await duplicate(session, campaign_id, created_by, [segment.id], f"{source.name} (to non-openers)")


async def delete_campaign(session: AsyncSession, campaign_id: int) -> None:
    campaign = await get_campaign(session, campaign_id, for_update=True)
    if S(campaign.status) not in DELETABLE:
        raise IllegalTransition(
            f"A {campaign.status} campaign cannot be deleted; only drafts, cancelled and failed campaigns can.",
            "status",
        )
    await session.delete(campaign)
    await session.flush()
