"""Lists of contacts and their memberships."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, created_at_column


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
    contact_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
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
