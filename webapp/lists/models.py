"""Lists of contacts and their memberships."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class ListType(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"
    SEGMENTED = "segmented"


class EmailList(Base):
    __tablename__ = "email_lists"
    __table_args__ = (
        CheckConstraint("list_type IN ('static', 'dynamic', 'segmented')", name="list_type"),
        Index("uq_email_lists_name_lower", func.lower(text("name")), unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    list_type: Mapped[str] = mapped_column(String(20), default=ListType.STATIC.value, server_default="static")
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # Maintained by statement-level triggers on list_members (see the initial migration), so it
    # stays right for bulk inserts and for cascaded deletes of contacts.
    # For dynamic and segmented lists: the number of matching contacts when last counted.
    contact_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    counted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Segment rules (seed 003 CustomerSegment.rules): {"operator": "AND", "conditions": [...]}.
    # Dynamic lists match them against every contact, segmented lists against parent_list's members.
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    parent_list_id: Mapped[int | None] = mapped_column(ForeignKey("email_lists.id", ondelete="RESTRICT"))
    # Public subscription: a hosted page and an embeddable form, single or double opt-in.
    is_public: Mapped[bool] = mapped_column(default=False, server_default="false")
    double_opt_in: Mapped[bool] = mapped_column(default=True, server_default="true")
    consent_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ListMember(Base):
    __tablename__ = "list_members"
    __table_args__ = (Index("ix_list_members_contact_id", "contact_id"),)

    list_id: Mapped[int] = mapped_column(ForeignKey("email_lists.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = created_at_column()
