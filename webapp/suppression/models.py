"""The global suppression list (seed 004): addresses that never receive campaign mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, LargeBinary, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

EMAIL_MAX_LENGTH = 320
SOURCE_MAX_LENGTH = 200
CREATED_BY_MAX_LENGTH = 320


class SuppressionReason(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    MANUAL = "manual"
    COMPLIANCE = "compliance"


# The key of an address: sha256 of its lower-cased form. An erased contact's address survives
# only as this hash, so a re-import of the same address stays suppressed.
# (decode(..., 'escape') of the text with its backslashes doubled gives exactly its UTF-8 bytes and,
# unlike convert_to, is immutable, so contacts can keep the hash as a generated column.)
EMAIL_HASH_SQL = r"sha256(decode(replace(lower({}), '\', '\\'), 'escape'))"
# The status a new contact with this address gets: the opt-out its suppression entry keeps, else
# active. Adding an address again (import, list paste) never undoes an unsubscribe, bounce or
# complaint (contacts.service.create_contact does the same for one added by hand).
KEPT_STATUS_SQL = (
    "coalesce((SELECT CASE x.reason WHEN 'unsubscribe' THEN 'unsubscribed' WHEN 'bounce' THEN 'bounced' "
    f"WHEN 'complaint' THEN 'complained' END FROM suppressions x WHERE x.email_hash = {EMAIL_HASH_SQL}), 'active')"
)


class Suppression(Base):
    __tablename__ = "suppressions"
    __table_args__ = (
        CheckConstraint("reason IN ('bounce', 'complaint', 'unsubscribe', 'manual', 'compliance')", name="reason"),
        Index("uq_suppressions_email_hash", "email_hash", unique=True),
        Index("ix_suppressions_email_lower", func.lower(text("email")), postgresql_ops={"lower": "text_pattern_ops"}),
        Index("ix_suppressions_created_at_id", "created_at", "id"),
        Index("ix_suppressions_reason_created_at_id", "reason", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email_hash: Mapped[bytes] = mapped_column(LargeBinary)
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX_LENGTH))  # NULL once the contact was erased
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str] = mapped_column(String(SOURCE_MAX_LENGTH), default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(CREATED_BY_MAX_LENGTH), default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
