"""Campaigns, their audiences, and one delivery row per recipient."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FAILED = "failed"


class CampaignKind(StrEnum):
    """What a campaign's messages are, for routing: newsletters, automation emails, or
    transactional messages."""

    MARKETING = "marketing"
    AUTOMATION = "automation"
    TRANSACTIONAL = "transactional"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; reclaimed when its lease runs out
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"
    CANCELLED = "cancelled"  # final: its campaign was cancelled before it was sent; never claimed
    SKIPPED = "skipped"  # final: the contact could no longer be mailed when its turn came; never claimed
    HELD = "held"  # kept back by an A/B test until its winner is chosen, then pending again; never claimed
    # An automation email being handed to the SMTP server (delivery/automation_mail.py); never claimed.
    HANDING = "handing"
    # final: its worker stopped while handing it over, so the server may have it; never sent again
    IN_DOUBT = "in_doubt"


DEFAULT_CAMPAIGN_SETTINGS = {
    "track_opens": True,
    "track_clicks": True,
    "unsubscribe_link": True,
    "suppress_duplicates": True,
    "web_version_link": False,  # a "View it in your browser" link above the content
    "archive": False,  # shown in the public archive (/archive) once sent
}
IN_ARCHIVE = text("""status = 'sent' AND kind = 'marketing' AND settings @> '{"archive": true}'""")


def _in(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(CampaignStatus)})", name="status"),
        CheckConstraint(f"kind IN ({_in(CampaignKind)})", name="kind"),
        CheckConstraint("content_format IN ('html', 'markdown')", name="content_format"),
        Index("ix_campaigns_status_scheduled_at", "status", "scheduled_at"),
        Index("ix_campaigns_created_at_id", "created_at", "id"),
        UniqueConstraint("automation_version_id", "automation_step_id", name="uq_campaigns_automation_version_step"),
        Index("ix_campaigns_automation_id", "automation_id", postgresql_where=text("automation_id IS NOT NULL")),
        Index("ix_campaigns_archive", "completed_at", "id", postgresql_where=IN_ARCHIVE),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500), default="", server_default="")
    from_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    from_email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    reply_to: Mapped[str] = mapped_column(String(320), default="", server_default="")
    template_id: Mapped[int | None] = mapped_column(ForeignKey("email_templates.id", ondelete="SET NULL"))
    # The campaign's own copy of the content, so editing a template never changes a sent campaign.
    content_format: Mapped[str] = mapped_column(String(10), default="html", server_default="html")
    markdown_content: Mapped[str] = mapped_column(Text, default="", server_default="")  # the HTML's source
    html_content: Mapped[str] = mapped_column(Text, default="", server_default="")
    text_content: Mapped[str] = mapped_column(Text, default="", server_default="")
    settings: Mapped[dict[str, Any]] = mapped_column(
        JSONB,
        default=lambda: dict(DEFAULT_CAMPAIGN_SETTINGS),
        server_default=text(f"'{json.dumps(DEFAULT_CAMPAIGN_SETTINGS)}'"),
    )
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.DRAFT.value, server_default="draft")
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    kind: Mapped[str] = mapped_column(String(20), default=CampaignKind.MARKETING.value, server_default="marketing")
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set once the delivery rows exist, so restarting a send never re-selects the audience.
    materialised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total_recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivered_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    opened_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    clicked_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bounced_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unsubscribed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    complained_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Times the send engine resumed it after pausing for unreachable servers (it does so a few times only).
    auto_resumes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # Set: the campaign is an automation's email step as one published version sends it (made by
    # automations.service.emails); it is not in the campaign list, and its report is the step's.
    automation_id: Mapped[int | None] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    automation_version_id: Mapped[int | None] = mapped_column(ForeignKey("automation_versions.id", ondelete="CASCADE"))
    automation_step_id: Mapped[str | None] = mapped_column(String(40))
    # The last pre-send content check (score, findings, what was not checked, the content's
    # fingerprint and when), and the admin who let it go out over the threshold, and when.
    content_check: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    content_override_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    content_override_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CampaignList(Base):
    __tablename__ = "campaign_lists"
    # The campaigns of a list: what a list's delete page names, and the rows its deletion cascades to.
    __table_args__ = (Index("ix_campaign_lists_list_id", "list_id"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("email_lists.id", ondelete="CASCADE"), primary_key=True)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        # A campaign reaches a contact once; an automation email once per enrolment (a contact who
        # enters again gets it again); a transactional message once per request.
        Index(
            "ux_deliveries_campaign_contact",
            "campaign_id",
            "contact_id",
            unique=True,
            postgresql_where=text("enrolment_id IS NULL AND tx_message_id IS NULL"),
        ),
        Index(
            "ux_deliveries_tx_message_id",
            "tx_message_id",
            unique=True,
            postgresql_where=text("tx_message_id IS NOT NULL"),
        ),
        # What the transactional sender claims (delivery/queries/transactional_mail.py).
        Index(
            "ix_deliveries_tx_unfinished",
            "id",
            postgresql_where=text("tx_message_id IS NOT NULL AND status IN ('pending', 'sending', 'handing')"),
        ),
        Index(
            "ux_deliveries_enrolment_campaign",
            "enrolment_id",
            "campaign_id",
            unique=True,
            postgresql_where=text("enrolment_id IS NOT NULL"),
        ),
        # What the automation email sender claims (delivery/queries/automation_mail.py).
        Index(
            "ix_deliveries_automation_unfinished",
            "id",
            postgresql_where=text("enrolment_id IS NOT NULL AND status IN ('pending', 'sending', 'handing')"),
        ),
        CheckConstraint(f"status IN ({_in(DeliveryStatus)})", name="status"),
        # Claiming scans only unfinished rows of one campaign.
        Index(
            "ix_deliveries_claimable", "campaign_id", "id", postgresql_where=text("status IN ('pending', 'sending')")
        ),
        Index("ix_deliveries_campaign_status", "campaign_id", "status"),
        # A campaign's recipients page by page, in send order (queries/campaigns.find_deliveries).
        Index("ix_deliveries_campaign_id_id", "campaign_id", "id"),
        Index("ix_deliveries_contact_id", "contact_id"),
        # A provider's report names the message by our Message-ID, or only by the recipient (feedback).
        Index("ix_deliveries_message_id", "message_id", postgresql_where=text("message_id IS NOT NULL")),
        # ... or by the API provider's own id of it.
        Index(
            "ix_deliveries_provider_message_id",
            "provider_message_id",
            postgresql_where=text("provider_message_id IS NOT NULL"),
        ),
        Index("ix_deliveries_email_lower_id", func.lower(text("email")), "id"),
        # An A/B test's figures per variant (abtests.queries).
        Index("ix_deliveries_ab_variant_id", "ab_variant_id", postgresql_where=text("ab_variant_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING.value, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[str | None] = mapped_column(String(255))
    smtp_server_id: Mapped[int | None] = mapped_column(ForeignKey("smtp_servers.id", ondelete="SET NULL"))
    # The API provider that took it (instead of an SMTP server).
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="SET NULL"))
    # Its id of the message (SES MessageId, SendGrid X-Message-Id: one per request, ...), as it replied.
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str] = mapped_column(Text, default="", server_default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first provider report of it
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The A/B test variant this recipient was sent in the test share (NULL: not part of a test share).
    ab_variant_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ab_test_variants.id", ondelete="SET NULL")
    )
    # The automation enrolment this email was sent in (its campaign is the email step's).
    enrolment_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("automation_enrolments.id", ondelete="CASCADE")
    )
    # The POST /api/tx request this message answers (its campaign is the template's transactional one).
    tx_message_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tx_messages.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Link(Base):
    """Every URL a campaign's content links to. Click tracking redirects only to these."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("campaign_id", "url", name="uq_links_campaign_url"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)


class EmailEvent(Base):
    """Opens, clicks, unsubscribes, bounces and complaints (and a provider's delivered and deferred
    reports), one row each, for history and analytics."""

    __tablename__ = "email_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('open', 'click', 'unsubscribe', 'bounce', 'complaint', 'failure', 'delivered', 'deferred')",
            name="kind",
        ),
        Index("ix_email_events_campaign_kind_at", "campaign_id", "kind", "at"),
        Index("ix_email_events_contact_id_at", "contact_id", "at"),
        # A tracking hit's key: the event worker may apply a batch twice (at-least-once), it is stored
        # once. A unique key of a partitioned table holds the partition key: a retried hit carries the
        # time it was made, so its (event_key, at) is the same.
        Index("ux_email_events_event_key_at", "event_key", "at", unique=True),
        # One partition per month (analytics.service.partitions): old months are dropped whole.
        {"postgresql_partition_by": "RANGE (at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("links.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), primary_key=True)
    event_key: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # None for events not from a tracking hit
    user_agent: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set by the event worker (analytics.service.classify): the agent's mail client and device, and
    # whether the open was a machine's (privacy proxy, prefetch) or the click a security scanner's.
    client: Mapped[str] = mapped_column(String(40), default="", server_default="")
    device: Mapped[str] = mapped_column(String(20), default="", server_default="")
    machine: Mapped[bool] = mapped_column(default=False, server_default="false")
