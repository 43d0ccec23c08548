"""Routing rules, per-recipient-domain throttles, and each transport's hourly figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class RoutingRule(Base):
    """Messages that match (every non-empty condition) go to `targets`, a list of
    {"transport": "smtp:<id>" | "provider:<id>", "weight": n}; rules are tried by position."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    domains: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    kinds: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    campaign_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="CASCADE"))
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class DomainThrottle(Base):
    """At most per_minute messages a minute to a recipient domain or a group (schemas.DOMAIN_GROUPS)."""

    __tablename__ = "domain_throttles"
    __table_args__ = (CheckConstraint("per_minute > 0", name="per_minute_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(253), unique=True)
    per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()


class TransportHour(Base):
    """One transport's figures for one hour, for the provider page's charts and table."""

    __tablename__ = "transport_hours"

    transport: Mapped[str] = mapped_column(String(40), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deferred: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bounced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    complained: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    latency_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # summed
    timed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
