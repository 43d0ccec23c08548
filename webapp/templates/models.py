"""Reusable email templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class EmailTemplate(Base):
    __tablename__ = "email_templates"
    __table_args__ = (
        CheckConstraint("template_type IN ('marketing', 'transactional')", name="template_type"),
        CheckConstraint("content_format IN ('html', 'markdown')", name="content_format"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500), default="", server_default="")
    content_format: Mapped[str] = mapped_column(String(10), default="html", server_default="html")
    markdown_content: Mapped[str] = mapped_column(Text, default="", server_default="")  # the HTML's source
    html_content: Mapped[str] = mapped_column(Text, default="", server_default="")
    text_content: Mapped[str] = mapped_column(Text, default="", server_default="")
    template_type: Mapped[str] = mapped_column(String(20), default="marketing", server_default="marketing")
    category: Mapped[str] = mapped_column(String(100), default="", server_default="")
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    variables: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
