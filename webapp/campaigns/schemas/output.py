"""What /api/campaigns answers with: seed 000's Campaign and Email shapes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, cast

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.abtests.models import AbTest, AbVariant
from webapp.abtests.schemas import AbVariantOut, variant_out
from webapp.campaigns.models import DEFAULT_CAMPAIGN_SETTINGS, Campaign, CampaignStatus, Delivery, DeliveryStatus
from webapp.templates.schemas import ContentFormatName

MACHINES_TOO = (
    "Every message opened (a click opens it too) or clicked, counted once, machines' included: privacy proxies, "
    "prefetches and link scanners. GET /api/campaigns/{id}/analytics counts people only."
)
COUNTERS = (
    "total_recipients",
    "sent_count",
    "delivered_count",
    "failed_count",
    "opened_count",
    "clicked_count",
    "bounced_count",
    "unsubscribed_count",
    "complained_count",
    "skipped_count",
)


class CampaignSettingsOut(Struct):
    track_opens: bool
    track_clicks: bool
    unsubscribe_link: bool
    suppress_duplicates: bool
    web_version_link: bool
    archive: bool


REPORTED_DELIVERED = (
    "Messages a sending provider reported delivered (through its webhook); plain SMTP servers report "
    "nothing, so 0 there. The analytics' emails_delivered counts messages sent and not bounced instead."
)


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
    delivered_count: Annotated[int, Meta(description=REPORTED_DELIVERED)]
    failed_count: int
    opened_count: Annotated[int, Meta(description=MACHINES_TOO)]
    clicked_count: Annotated[int, Meta(description=MACHINES_TOO)]
    bounced_count: int
    unsubscribed_count: int
    complained_count: int
    skipped_count: int  # recipients no longer mailable when their turn came (unsubscribed, bounced, suppressed ...)
    open_rate: Annotated[float, Meta(description=MACHINES_TOO)]
    click_rate: Annotated[float, Meta(description=MACHINES_TOO)]
    bounce_rate: float
    unsubscribe_rate: float
    settings: CampaignSettingsOut
    created_by: str
    created_at: datetime
    updated_at: datetime


class CampaignDetailOut(CampaignOut, kw_only=True):
    content_format: ContentFormatName
    markdown_content: str  # the source of html_content when content_format is "markdown"
    html_content: str
    text_content: str
    ab_test_id: int | None  # its A/B test (/api/ab-tests/{id}), if it is one
    variants: list[AbVariantOut]  # the A/B test's variants; empty for a campaign that is no test


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


def _campaign_fields(c: Campaign, list_ids: Sequence[int], rates: dict[str, float]) -> dict[str, Any]:
    settings = {name: bool(c.settings.get(name, default)) for name, default in DEFAULT_CAMPAIGN_SETTINGS.items()}
    return {
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
        "scheduled_time": None
        if c.status == CampaignStatus.DRAFT.value
        else c.scheduled_at,  # a draft's is only offered
        "timezone": c.timezone,
        "sent_time": c.started_at,
        "completed_time": c.completed_at,
        **{name: getattr(c, name) for name in COUNTERS},
        **rates,
        "settings": CampaignSettingsOut(**settings),
        "created_by": c.created_by,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def campaign_out(c: Campaign, list_ids: Sequence[int], rates: dict[str, float]) -> CampaignOut:
    """`rates` are the campaign's rates as the campaigns service computes them."""
    return CampaignOut(**_campaign_fields(c, list_ids, rates))


def campaign_detail_out(
    c: Campaign, list_ids: Sequence[int], rates: dict[str, float], ab_test: tuple[AbTest, list[AbVariant]] | None
) -> CampaignDetailOut:
    return CampaignDetailOut(
        **_campaign_fields(c, list_ids, rates),
        content_format=cast(ContentFormatName, c.content_format),  # the table's check allows no other
        markdown_content=c.markdown_content,
        html_content=c.html_content,
        text_content=c.text_content,
        ab_test_id=ab_test[0].id if ab_test else None,
        variants=[variant_out(v) for v in ab_test[1]] if ab_test else [],
    )


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
