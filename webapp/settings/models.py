"""Outgoing mail servers, configured by an admin, and the organisation's sender settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class SmtpServer(Base):
    __tablename__ = "smtp_servers"
    __table_args__ = (CheckConstraint("tls_mode IN ('none', 'starttls', 'tls')", name="tls_mode"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=587)
    tls_mode: Mapped[str] = mapped_column(String(10), default="starttls")
    username: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # Fernet-encrypted with a key derived from MAILROOM_SECRET_KEY; never shown again once saved.
    password_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    rate_per_second: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0 = unlimited
    rate_per_hour: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rate_per_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_connections: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # lower is tried first
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # An admin's explicit choice: this server may be on a private, loopback or link-local network.
    allow_private: Mapped[bool] = mapped_column(default=False, server_default="false")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class AppSetting(Base):
    """Organisation-wide settings edited by admins (postal address, DKIM, ...), one row per key."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
