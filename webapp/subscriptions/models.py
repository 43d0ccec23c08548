"""Consent records: how each contact came to be on each list."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

SOURCE_MAX_LENGTH = 200
IP_ADDRESS_MAX_LENGTH = 64


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class Subscription(Base):
    """The consent record of one contact on one list: when, from which form and IP, what text was
    shown. list_members holds confirmed memberships only; a pending double opt-in lives here alone."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'unsubscribed')", name="status"),
        Index("uq_subscriptions_contact_list", "contact_id", "list_id", unique=True),
        Index("ix_subscriptions_list_id", "list_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    list_id: Mapped[int] = mapped_column(ForeignKey("email_lists.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=SubscriptionStatus.PENDING.value)
    # page, form (embedded), preferences, import
    source: Mapped[str] = mapped_column(String(SOURCE_MAX_LENGTH), default="", server_default="")
    ip_address: Mapped[str] = mapped_column(String(IP_ADDRESS_MAX_LENGTH), default="", server_default="")
    user_agent: Mapped[str] = mapped_column(Text, default="", server_default="")
    consent_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
