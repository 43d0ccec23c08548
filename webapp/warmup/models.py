"""A warm-up plan: what it covers (one SMTP server, one API provider, or one From domain), its 30 daily maxima from
its first day, the bounce and complaint rates that hold it back, and whether it is held now."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

SCOPES = ("smtp_server", "provider", "from_domain")
SCHEDULE_DAYS = 30


class WarmupPlan(Base):
    __tablename__ = "warmup_plans"
    __table_args__ = (
        CheckConstraint(f"scope IN ({', '.join(repr(s) for s in SCOPES)})", name="scope"),
        # exactly the column its scope names is set
        CheckConstraint(
            "(scope = 'smtp_server') = (smtp_server_id IS NOT NULL)"
            " AND (scope = 'provider') = (provider_id IS NOT NULL)"
            " AND (scope = 'from_domain') = (from_domain IS NOT NULL)",
            name="scope_target",
        ),
        CheckConstraint(f"cardinality(daily_limits) = {SCHEDULE_DAYS}", name="thirty_days"),
        # one plan per server, per provider and per domain
        Index("ux_warmup_plans_smtp_server_id", "smtp_server_id", unique=True),
        Index("ux_warmup_plans_provider_id", "provider_id", unique=True),
        Index("ux_warmup_plans_from_domain", "from_domain", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(20))
    smtp_server_id: Mapped[int | None] = mapped_column(ForeignKey("smtp_servers.id", ondelete="CASCADE"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    from_domain: Mapped[str | None] = mapped_column(String(255))  # lower-case
    starts_on: Mapped[date] = mapped_column(Date, server_default=text("CURRENT_DATE"))  # day 1, UTC
    daily_limits: Mapped[list[int]] = mapped_column(ARRAY(Integer))  # day 1 .. day 30
    bounce_threshold: Mapped[float] = mapped_column(Float, default=5.0, server_default="5")  # percent
    complaint_threshold: Mapped[float] = mapped_column(Float, default=0.3, server_default="0.3")  # percent
    min_sample: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
