"""A transactional message request, and the hidden campaign each template's messages belong to.

The message itself is a delivery (deliveries.tx_message_id) of its template's transactional
campaign, so it is rendered, sent, tracked and reported as campaign mail is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

IDEMPOTENCY_KEY_MAX_LENGTH = 200


class TxMessage(Base):
    __tablename__ = "tx_messages"
    __table_args__ = (
        # A client's retry (same API key, same idempotency key) finds its first request.
        UniqueConstraint("api_key_id", "idempotency_key", name="uq_tx_messages_api_key_idempotency_key"),
        # The staff page: a template's latest messages.
        Index("ix_tx_messages_template_id_id", "template_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX_LENGTH))
    # sha256 of the request as understood (template, address, data): a retry must be the same request.
    request_hash: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("email_templates.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = created_at_column()


class TxCampaign(Base):
    """The hidden campaign holding a template's transactional messages (made on its first message)."""

    __tablename__ = "tx_campaigns"

    template_id: Mapped[int] = mapped_column(ForeignKey("email_templates.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True)
