"""API email providers configured by an admin: which service, its settings, its credentials
(encrypted at rest) and its limits."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Integer, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class ProviderKind(StrEnum):
    SES = "ses"
    SENDGRID = "sendgrid"
    POSTMARK = "postmark"
    MAILGUN = "mailgun"


KINDS = ", ".join(f"'{k.value}'" for k in ProviderKind)


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (CheckConstraint(f"kind IN ({KINDS})", name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    # Per kind: SES region, Mailgun domain and region, Postmark message stream, and a base URL
    # that overrides the service's (a local server in tests, an EU endpoint).
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    # Fernet-encrypted JSON of the kind's secrets (API key, token, access key); never shown again.
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    batch_size: Mapped[int] = mapped_column(Integer, default=50, server_default="50")  # messages per API request
    rate_per_second: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0 = unlimited
    rate_per_hour: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rate_per_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_connections: Mapped[int] = mapped_column(Integer, default=4, server_default="4")  # concurrent requests
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # lower is tried first
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
