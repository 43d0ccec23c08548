"""The audit log's events, kept a year (actors.py prunes older ones)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

ACTOR_LENGTH = 320
PATH_LENGTH = 2000


class AuditEvent(Base):
    """One change a staff member or API key made that succeeded, or one sign-in (or failed try).
    Ids of the user or key are kept without a foreign key: the event outlives them."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at_id", "occurred_at", "id"),
        Index(
            "ix_audit_events_user_id_occurred_at_id",
            "user_id",
            "occurred_at",
            "id",
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "ix_audit_events_api_key_id_occurred_at_id",
            "api_key_id",
            "occurred_at",
            "id",
            postgresql_where=text("api_key_id IS NOT NULL"),
        ),
        Index("ix_audit_events_area_occurred_at_id", "area", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = created_at_column()
    # The staff member's email, "api:<key name>", or the address typed at a failed sign-in.
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    api_key_id: Mapped[int | None] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # What was done: the route ("POST /campaigns/{campaign_id}/send"), or "sign-in" and the like.
    action: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(PATH_LENGTH), default="", server_default="")  # as requested, ids in it
    area: Mapped[str] = mapped_column(String(50))  # the path's first part (after /api/): campaigns, settings…
    status: Mapped[int] = mapped_column(SmallInteger)  # the HTTP status answered
    ip: Mapped[str] = mapped_column(String(64), default="", server_default="")
