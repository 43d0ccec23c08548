"""A custom event: one thing a contact did outside email (a purchase, an abandoned cart), posted to
the API by the organisation's own systems, with its properties as they were sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

NAME_MAX_LENGTH = 100
CLIENT_KEY_MAX_LENGTH = 200


class ContactEvent(Base):
    __tablename__ = "contact_events"
    __table_args__ = (
        # A contact's latest events (their page), and scoring's reading of one contact's events.
        Index("ix_contact_events_contact_id_occurred_at", "contact_id", "occurred_at"),
        # The sender's key makes a retried POST store the event once; events sent without one are
        # never de-duplicated (two purchases in a minute may both be real).
        Index(
            "ux_contact_events_client_key",
            "client_key",
            unique=True,
            postgresql_where=text("client_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    client_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_MAX_LENGTH))
    created_at: Mapped[datetime] = created_at_column()
