"""Seed mailboxes (addresses at the big mailbox providers that staff own and Mailroom may read over
IMAP), placement tests of a campaign, and one copy per seed in each test."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class SeedMailbox(Base):
    __tablename__ = "seed_mailboxes"
    __table_args__ = (CheckConstraint("tls_mode IN ('none', 'starttls', 'tls')", name="tls_mode"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(20))  # gmail | outlook | yahoo | other
    email: Mapped[str] = mapped_column(String(320))  # where the copies are sent
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=993)
    tls_mode: Mapped[str] = mapped_column(String(10), default="tls")
    username: Mapped[str] = mapped_column(String(320))
    # Fernet-encrypted (core/secret_box.py); never shown again once saved.
    password_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    spam_folder: Mapped[str] = mapped_column(String(200), default="", server_default="")  # "": found by name
    allow_private: Mapped[bool] = mapped_column(default=False, server_default="false")
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()


class PlacementTest(Base):
    __tablename__ = "placement_tests"
    __table_args__ = (CheckConstraint("status IN ('sending', 'waiting', 'done')", name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="sending")
    wait_minutes: Mapped[int] = mapped_column(Integer)  # copies not found by then are reported missing
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PlacementCopy(Base):
    """One copy of the campaign sent to one seed; the seed's name, provider and address are kept so a
    result still reads right after the seed is changed or deleted."""

    __tablename__ = "placement_copies"
    __table_args__ = (CheckConstraint("status IN ('pending', 'sent', 'arrived', 'missing', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    test_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("placement_tests.id", ondelete="CASCADE"), index=True)
    seed_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("seed_mailboxes.id", ondelete="SET NULL"))
    seed_name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(320))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # in the copy's Message-ID
    status: Mapped[str] = mapped_column(String(10), default="pending")
    folder: Mapped[str] = mapped_column(String(200), default="", server_default="")
    placement: Mapped[str] = mapped_column(String(20), default="", server_default="")  # inbox | spam | category
    category: Mapped[str] = mapped_column(String(40), default="", server_default="")  # e.g. Promotions
    authentication: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
