"""A conversion: one order of a contact, its exact amount and currency, and the click it is credited
to (none when no human click came within the window before it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

# Unconstrained numeric keeps the amount as it was sent ("49.90" stays 49.90, not 49.9000); the schema
# allows four decimal places (every ISO 4217 minor unit) and fourteen digits before them.
AMOUNT = Numeric()


class Conversion(Base):
    __tablename__ = "conversions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("source IN ('api', 'pixel')", name="source"),
        # A campaign's revenue per currency is read from this index alone (an index-only scan).
        Index(
            "ix_conversions_campaign_currency",
            "campaign_id",
            "currency",
            postgresql_include=["amount"],
            postgresql_where="campaign_id IS NOT NULL",
        ),
        Index("ix_conversions_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(200), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(10))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("links.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
