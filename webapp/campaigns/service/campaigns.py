"""Campaign rules: what a campaign must have before it can go out, and every status change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import DEFAULT_CAMPAIGN_SETTINGS, Campaign, CampaignList, CampaignStatus
from webapp.campaigns.service.states import IllegalTransition, check_editable, check_transition
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.validation import is_valid_id, normalize_email, text_field
from webapp.lists.models import EmailList
from webapp.templates.models import EmailTemplate
from webapp.templates.service.rendering import check_template

S = CampaignStatus
DETAIL_FIELDS = {"name": ("Name", 200), "subject": ("Subject", 500), "from_name": ("From name", 200)}
CONTENT_FIELDS = ("html_content", "text_content")
MAX_CONTENT = 1_000_000
DELETABLE = frozenset({S.DRAFT, S.CANCELLED, S.FAILED})


async def get_campaign(session: AsyncSession, campaign_id: int, *, for_update: bool = False) -> Campaign:
    if not is_valid_id(campaign_id):  # beyond bigint: no such campaign, not a database error
        raise NotFound(f"Campaign {campaign_id} does not exist.")
    query = select(Campaign).where(Campaign.id == campaign_id)
    if for_update:
        query = query.with_for_update()
    campaign = await session.scalar(query)
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} does not exist.")
    return campaign


def validate(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, (label, limit) in DETAIL_FIELDS.items():
        if name in data or (not partial and name == "name"):
            try:
                values[name] = text_field(data.get(name), label, limit)
            except ValueError as exc:
                errors[name] = str(exc)
    if (not partial or "name" in values) and not values.get("name") and "name" not in errors:
        errors["name"] = "Give the campaign a name."
    for name in ("from_email", "reply_to"):
        if name in data:
            raw = str(data[name] or "").strip()
            try:
                values[name] = normalize_email(raw) if raw else ""
            except ValueError as exc:
                errors[name] = str(exc)
    for name in CONTENT_FIELDS:
        if name in data:
            value = data[name] if isinstance(data[name], str) else ""
            if len(value) > MAX_CONTENT:
                errors[name] = f"At most {MAX_CONTENT:,} characters."
            elif "\x00" in value:  # PostgreSQL text cannot hold NUL
                errors[name] = "Contains a character that is not allowed (NUL)."
            values[name] = value
    if "template_id" in data:
        raw = data["template_id"]
        try:
            values["template_id"] = int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            errors["template_id"] = "Choose a template from the list."
        else:
            if values["template_id"] is not None and not is_valid_id(values["template_id"]):
                errors["template_id"] = f"Template {values['template_id']} does not exist."
    if "settings" in data:
        raw = data["settings"] if isinstance(data["settings"], Mapping) else {}
        unknown = set(raw) - set(DEFAULT_CAMPAIGN_SETTINGS)
        if unknown:
            errors["settings"] = "Unknown settings: " + ", ".join(sorted(unknown)) + "."
        values["settings"] = {k: bool(raw.get(k, v)) for k, v in DEFAULT_CAMPAIGN_SETTINGS.items()}
    check = check_template({k: values[k] for k in ("subject", *CONTENT_FIELDS) if k in values})
    errors.update({k: v for k, v in check.errors.items() if k not in errors})
    if errors:
        raise ValidationFailed(errors)
    return values


async def _check_template_exists(session: AsyncSession, template_id: int | None) -> None:
    if template_id is not None and await session.get(EmailTemplate, template_id) is None:
        raise ValidationFailed({"template_id": f"Template {template_id} does not exist."})


async def create_campaign(session: AsyncSession, data: Mapping[str, Any], created_by: str) -> Campaign:
    values = validate({k: v for k, v in data.items() if k != "list_ids"}, partial=False)
    await _check_template_exists(session, values.get("template_id"))
    if values.get("template_id") and not values.get("html_content"):
        await _copy_template(session, values)
    campaign = Campaign(**values, created_by=created_by)
    session.add(campaign)
    await session.flush()
    if "list_ids" in data:
        await set_lists(session, campaign, data["list_ids"])
    await session.refresh(campaign)
    return campaign


async def _copy_template(session: AsyncSession, values: dict[str, Any], current_subject: str = "") -> None:
    template = await session.get(EmailTemplate, values["template_id"])
    values["html_content"] = template.html_content
    values["text_content"] = template.text_content
    if not values.get("subject") and not current_subject:
        values["subject"] = template.subject


async def update_campaign(session: AsyncSession, campaign_id: int, data: Mapping[str, Any]) -> Campaign:
    campaign = await get_campaign(session, campaign_id, for_update=True)
    check_editable(campaign.status)
    if isinstance(data.get("settings"), Mapping):  # settings that are not sent keep their value
        data = {**data, "settings": {**campaign.settings, **data["settings"]}}
    values = validate({k: v for k, v in data.items() if k != "list_ids"}, partial=True)
    if "template_id" in values:
        await _check_template_exists(session, values["template_id"])
        if values["template_id"] and values["template_id"] != campaign.template_id and "html_content" not in values:
            await _copy_template(session, values, campaign.subject)
    for name, value in values.items():
        setattr(campaign, name, value)
    if "list_ids" in data:
        await set_lists(session, campaign, data["list_ids"])
    await session.flush()
    await session.refresh(campaign)
    return campaign


def _list_ids(raw: Any) -> list[int]:
    if raw is None:
        return []
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    try:
        ids = sorted({int(item) for item in items if str(item).strip()})
    except (TypeError, ValueError):
        raise ValidationFailed({"list_ids": "List ids must be numbers."}) from None
    if bad := [i for i in ids if not is_valid_id(i)]:
        raise ValidationFailed({"list_ids": "Unknown list ids: " + ", ".join(map(str, bad[:10])) + "."})
    return ids


async def set_lists(session: AsyncSession, campaign: Campaign, raw: Any) -> list[int]:
    list_ids = _list_ids(raw)
    if list_ids:
        found = set(await session.scalars(select(EmailList.id).where(EmailList.id.in_(list_ids))))
        if missing := [i for i in list_ids if i not in found]:
            raise ValidationFailed({"list_ids": "Unknown list ids: " + ", ".join(map(str, missing)) + "."})
    await session.execute(delete(CampaignList).where(CampaignList.campaign_id == campaign.id))
    if list_ids:
        await session.execute(insert(CampaignList), [{"campaign_id": campaign.id, "list_id": i} for i in list_ids])
    return list_ids


async def list_ids_of(session: AsyncSession, campaign_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(CampaignList.list_id).where(CampaignList.campaign_id == campaign_id).order_by(CampaignList.list_id)
        )
    )


async def readiness_problems(session: AsyncSession, campaign: Campaign) -> dict[str, str]:
    """What stops this campaign from being sent, by wizard field. Empty means ready."""
    problems: dict[str, str] = {}
    if not campaign.subject.strip():
        problems["subject"] = "Write a subject line."
    if not campaign.from_email:
        problems["from_email"] = "Enter the address the campaign is sent from."
    if not campaign.html_content.strip():
        problems["html_content"] = "Pick a template or write the content."
    if not await list_ids_of(session, campaign.id):
        problems["list_ids"] = "Choose at least one list to send to."
    check = check_template(
        {"subject": campaign.subject, "html_content": campaign.html_content, "text_content": campaign.text_content}
    )
    problems.update(check.errors)
    return problems


def parse_schedule(raw_time: Any, raw_zone: Any) -> tuple[datetime, str]:
    """A local date-time in a named zone (or an ISO time with offset) -> aware UTC time."""
    zone_name = str(raw_zone or "UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed({"timezone": f"Unknown time zone '{zone_name}'."}) from None
    try:
        when = datetime.fromisoformat(str(raw_time))
    except ValueError:
        raise ValidationFailed({"scheduled_time": "Enter a date and time like 2026-12-01T09:30."}) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    try:
        return when.astimezone(UTC), zone_name
    except OverflowError:
        raise ValidationFailed({"scheduled_time": "Choose a time before the year 9999."}) from None


async def _require_ready(session: AsyncSession, campaign: Campaign) -> None:
    if problems := await readiness_problems(session, campaign):
        raise ValidationFailed(problems)


async def schedule(session: AsyncSession, campaign_id: int, raw_time: Any, raw_zone: Any = "UTC") -> Campaign:
    campaign = await get_campaign(session, campaign_id, for_update=True)
    when, zone = parse_schedule(raw_time, raw_zone)
    now = await session.scalar(select(func.now()))
    if when <= now:
        raise ValidationFailed({"scheduled_time": "Choose a time in the future, or send now."})
    if campaign.status != S.SCHEDULED.value:
        check_transition(campaign.status, S.SCHEDULED)
    await _require_ready(session, campaign)
    campaign.status, campaign.scheduled_at, campaign.timezone, campaign.status_reason = (
        S.SCHEDULED.value,
        when,
        zone,
        "",
    )
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def send_now(session: AsyncSession, campaign_id: int) -> Campaign:
    """Mark the campaign sending; the worker's scheduler tick starts it within seconds."""
    campaign = await get_campaign(session, campaign_id, for_update=True)
    check_transition(campaign.status, S.SENDING)
    await _require_ready(session, campaign)
    campaign.status, campaign.status_reason = S.SENDING.value, ""
    if campaign.started_at is None:
        campaign.started_at = func.now()
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def pause(session: AsyncSession, campaign_id: int, reason: str = "Paused by staff.") -> Campaign:
    return await _move(session, campaign_id, S.PAUSED, reason)


async def resume(session: AsyncSession, campaign_id: int) -> Campaign:
    """Paused (or failed) -> sending: claiming picks up exactly the rows not yet sent."""
    return await _move(session, campaign_id, S.SENDING, "")


async def cancel(session: AsyncSession, campaign_id: int) -> Campaign:
    return await _move(session, campaign_id, S.CANCELLED, "Cancelled by staff.")


async def unschedule(session: AsyncSession, campaign_id: int) -> Campaign:
    """Back to draft to edit a scheduled campaign."""
    campaign = await _move(session, campaign_id, S.DRAFT, "")
    campaign.scheduled_at = None
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def _move(session: AsyncSession, campaign_id: int, target: S, reason: str) -> Campaign:
    campaign = await get_campaign(session, campaign_id, for_update=True)
    check_transition(campaign.status, target)
    campaign.status, campaign.status_reason = target.value, reason
    if target is S.CANCELLED:
        campaign.completed_at = func.now()
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def duplicate(session: AsyncSession, campaign_id: int, created_by: str) -> Campaign:
    source = await get_campaign(session, campaign_id)
    copy = Campaign(
        name=f"Copy of {source.name}"[:200],
        subject=source.subject,
        from_name=source.from_name,
        from_email=source.from_email,
        reply_to=source.reply_to,
        template_id=source.template_id,
        html_content=source.html_content,
        text_content=source.text_content,
        settings=dict(source.settings),
        timezone=source.timezone,
        created_by=created_by,
    )
    session.add(copy)
    await session.flush()
    await set_lists(session, copy, await list_ids_of(session, campaign_id))
    await session.refresh(copy)
    return copy


async def delete_campaign(session: AsyncSession, campaign_id: int) -> None:
    campaign = await get_campaign(session, campaign_id, for_update=True)
    if S(campaign.status) not in DELETABLE:
        raise IllegalTransition(
            f"A {campaign.status} campaign cannot be deleted; only drafts, cancelled and failed campaigns can.",
            "status",
        )
    await session.delete(campaign)
    await session.flush()
