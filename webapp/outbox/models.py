"""Mail caught by the capture SMTP server in dev mode."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

ADDRESS_LENGTH = 320
MESSAGE_ID_LENGTH = 255


class OutboxMessage(Base):
    """One captured message, stored whole (raw) and shown on the Outbox page."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    mail_from: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    rcpt_to: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="", server_default="")
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_LENGTH), default="", server_default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = created_at_column()
