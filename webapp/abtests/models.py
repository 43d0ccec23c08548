"""An A/B test of a campaign and its variants. A delivery names the variant it was sent
(deliveries.ab_variant_id, in the campaigns models), so every figure can be counted per variant."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

MIN_VARIANTS, MAX_VARIANTS = 2, 8


class AbTestStatus(StrEnum):
    DRAFT = "draft"  # its campaign is still being written
    TESTING = "testing"  # the test share is being sent
    WAITING = "waiting"  # sent to the test share; counting until the wait ends
    WINNER_CHOSEN = "winner_chosen"  # decided; the winner is being sent to the rest
    SENT = "sent"
    CANCELLED = "cancelled"  # its campaign was cancelled before the winner went out


class Criterion(StrEnum):
    HUMAN_OPENS = "human_opens"  # unique opens, machine opens (privacy proxies, prefetch) left out
    CLICKS = "clicks"  # unique clicks, security scanners' left out
    REVENUE = "revenue"
    MANUAL = "manual"


class Fallback(StrEnum):
    """What is sent to the rest when no variant is significantly better."""

    CONTROL = "control"
    LEADER = "leader"


def _in(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class AbTest(Base):
    __tablename__ = "ab_tests"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(AbTestStatus)})", name="status"),
        CheckConstraint(f"criterion IN ({_in(Criterion)})", name="criterion"),
        CheckConstraint(f"fallback IN ({_in(Fallback)})", name="fallback"),
        CheckConstraint("test_percent BETWEEN 1 AND 50", name="test_percent"),
        CheckConstraint("confidence_level BETWEEN 80 AND 99", name="confidence_level"),
        CheckConstraint("wait_minutes > 0", name="wait_minutes"),
        Index("ix_ab_tests_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # One test per campaign.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True)
    test_percent: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    wait_minutes: Mapped[int] = mapped_column(Integer, default=240, server_default="240")
    criterion: Mapped[str] = mapped_column(
        String(20), default=Criterion.HUMAN_OPENS.value, server_default="human_opens"
    )
    confidence_level: Mapped[int] = mapped_column(Integer, default=95, server_default="95")
    fallback: Mapped[str] = mapped_column(String(20), default=Fallback.CONTROL.value, server_default="control")
    status: Mapped[str] = mapped_column(String(20), default=AbTestStatus.DRAFT.value, server_default="draft")
    # The variant sent to the rest, and why (the decision's reason, or who chose it by hand).
    chosen_variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_test_variants.id", ondelete="SET NULL", use_alter=True)
    )
    decision_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    test_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class AbVariant(Base):
    """One version of the campaign. An override left NULL is the campaign's own value."""

    __tablename__ = "ab_test_variants"
    __table_args__ = (
        UniqueConstraint("ab_test_id", "position", name="uq_ab_test_variants_test_position"),
        UniqueConstraint("ab_test_id", "label", name="uq_ab_test_variants_test_label"),
        CheckConstraint(f"position BETWEEN 0 AND {MAX_VARIANTS - 1}", name="position"),
        # Exactly one control per test (the service checks there is one; this that there is no second).
        Index("ux_ab_test_variants_control", "ab_test_id", unique=True, postgresql_where=text("is_control")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ab_test_id: Mapped[int] = mapped_column(ForeignKey("ab_tests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    label: Mapped[str] = mapped_column(String(50))
    is_control: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    subject: Mapped[str | None] = mapped_column(String(500))
    from_name: Mapped[str | None] = mapped_column(String(200))
    preheader: Mapped[str | None] = mapped_column(String(500))
    html_content: Mapped[str | None] = mapped_column(Text)
    text_content: Mapped[str | None] = mapped_column(Text)
