"""Request and response bodies of /api/campaigns (seed 000's Campaign and Email shapes).

Request Structs check JSON types (a wrong type is a 400 naming the field); the campaign service
applies the rules (422 naming each field). Fields the Structs do not know are refused here, as the
other API resources do, instead of being dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType, structs

from webapp.campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from webapp.core.api import id_parameter
from webapp.core.errors import ValidationFailed
from webapp.core.validation import MAX_ID
from webapp.delivery.progress import final_stats

CampaignId = Annotated[int, id_parameter("Campaign id.")]
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]


class CampaignSettings(Struct, kw_only=True):
    """Settings not sent keep their value (their default, for a new campaign: all true)."""

    track_opens: bool | UnsetType = UNSET
    track_clicks: bool | UnsetType = UNSET
    unsubscribe_link: bool | UnsetType = UNSET
    suppress_duplicates: bool | UnsetType = UNSET


class CampaignUpdate(Struct, kw_only=True):
    """A partial update of a draft or scheduled campaign: only the fields sent change. Choosing a
    different `template_id` copies that template's content unless `html_content` is sent too;
    `list_ids` replaces the audience. Unknown fields are rejected (422)."""

    name: str | UnsetType = UNSET
    subject: str | UnsetType | None = UNSET
    from_email: str | UnsetType | None = UNSET
    from_name: str | UnsetType | None = UNSET
    reply_to: str | UnsetType | None = UNSET
    template_id: Id | UnsetType | None = UNSET
    list_ids: list[Id] | UnsetType = UNSET
    html_content: str | UnsetType | None = UNSET
    text_content: str | UnsetType | None = UNSET
    settings: CampaignSettings | UnsetType = UNSET


class CampaignCreate(CampaignUpdate, kw_only=True):
    """A new draft: only `name` is required. With `template_id` and no `html_content`, the
    template's content (and subject, when none is given) is copied into the campaign."""

    name: str


class ScheduleIn(Struct, kw_only=True):
    scheduled_time: Annotated[
        str,
        Meta(max_length=100, description=("ISO 8601 date-time. Without an offset it is a local time in `timezone`.")),
    ]
    timezone: Annotated[str, Meta(max_length=100, description="IANA zone, e.g. Europe/Madrid. Default UTC.")] = "UTC"


class CampaignSettingsOut(Struct):
    track_opens: bool
    track_clicks: bool
    unsubscribe_link: bool
    suppress_duplicates: bool


class CampaignOut(Struct, kw_only=True):
    id: int
    name: str
    subject: str
    from_email: str
    from_name: str
    reply_to: str
    template_id: int | None
    list_ids: list[int]
    status: CampaignStatus
    status_reason: str
    scheduled_time: datetime | None
    timezone: str
    sent_time: datetime | None
    completed_time: datetime | None
    total_recipients: int
    sent_count: int
    delivered_count: int
    failed_count: int
    opened_count: int
    clicked_count: int
    bounced_count: int
    unsubscribed_count: int
    complained_count: int
    open_rate: float
    click_rate: float
    bounce_rate: float
    unsubscribe_rate: float
    settings: CampaignSettingsOut
    created_by: str
    created_at: datetime
    updated_at: datetime


class CampaignDetailOut(CampaignOut, kw_only=True):
    html_content: str
    text_content: str


class CampaignPageOut(Struct):
    items: list[CampaignOut]
    next_cursor: str | None


class EmailOut(Struct, kw_only=True):
    """One recipient's message. `subject` is personalised for the recipient; html_content and
    text_content (with ?include_content=true) are exactly what was sent, tracking links included."""

    id: int
    campaign_id: int
    contact_id: int | None
    to_email: str
    from_email: str
    subject: str
    status: DeliveryStatus
    sent_time: datetime | None
    opened_time: datetime | None
    clicked_time: datetime | None
    bounced_time: datetime | None
    unsubscribed_time: datetime | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    html_content: str | UnsetType = UNSET
    text_content: str | UnsetType = UNSET


class EmailPageOut(Struct):
    items: list[EmailOut]
    next_cursor: str | None


def reject_unknown(body: Any, schema: type[Struct]) -> None:
    """422 naming each field the schema does not have (the Struct itself would drop them)."""
    if not isinstance(body, Mapping):
        return
    known = {f.encode_name for f in structs.fields(schema)}
    errors = {str(name): "Unknown field." for name in body if name not in known}
    settings = body.get("settings")
    if isinstance(settings, Mapping):
        allowed = {f.encode_name for f in structs.fields(CampaignSettings)}
        errors |= {f"settings.{name}": "Unknown setting." for name in settings if name not in allowed}
    if errors:
        raise ValidationFailed(errors)


def campaign_out(c: Campaign, list_ids: Sequence[int], *, detail: bool = False) -> CampaignOut:
    values = {
        "id": c.id,
        "name": c.name,
        "subject": c.subject,
        "from_email": c.from_email,
        "from_name": c.from_name,
        "reply_to": c.reply_to,
        "template_id": c.template_id,
        "list_ids": list(list_ids),
        "status": CampaignStatus(c.status),
        "status_reason": c.status_reason,
        "scheduled_time": c.scheduled_at,
        "timezone": c.timezone,
        "sent_time": c.started_at,
        "completed_time": c.completed_at,
        **{
            name: getattr(c, name)
            for name in (
                "total_recipients",
                "sent_count",
                "delivered_count",
                "failed_count",
                "opened_count",
                "clicked_count",
                "bounced_count",
                "unsubscribed_count",
                "complained_count",
                "created_by",
                "created_at",
                "updated_at",
            )
        },
        **final_stats(c),
        "settings": CampaignSettingsOut(
            **{
                name: bool(c.settings.get(name, True))
                for name in ("track_opens", "track_clicks", "unsubscribe_link", "suppress_duplicates")
            }
        ),
    }
    if detail:
        return CampaignDetailOut(**values, html_content=c.html_content, text_content=c.text_content)
    return CampaignOut(**values)


def email_out(d: Delivery, from_email: str, subject: str, content: tuple[str, str] | None = None) -> EmailOut:
    extra = {"html_content": content[0], "text_content": content[1]} if content else {}
    return EmailOut(
        id=d.id,
        campaign_id=d.campaign_id,
        contact_id=d.contact_id,
        to_email=d.email,
        from_email=from_email,
        subject=subject,
        status=DeliveryStatus(d.status),
        sent_time=d.sent_at,
        opened_time=d.opened_at,
        clicked_time=d.clicked_at,
        bounced_time=d.bounced_at,
        unsubscribed_time=d.unsubscribed_at,
        error_message=d.error_message or None,
        created_at=d.created_at,
        updated_at=d.updated_at,
        **extra,
    )
