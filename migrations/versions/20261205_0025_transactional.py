"""Transactional messages (POST /api/tx): each request is a row (its API key, the client's
idempotency key and a hash of the body, the template and the data), and its message is a delivery of
the template's hidden transactional campaign, so it is sent, tracked and reported as campaign mail
is. A campaign reaches a contact once, an automation email once per enrolment, a transactional
message once per request.

Revision ID: 0025
Revises: 0020 (0019 before feat-providers was merged in; the merger re-chains in number order)
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tx_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("api_key_id", sa.BigInteger(), sa.ForeignKey("api_keys.id", ondelete="SET NULL")),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("template_id", sa.BigInteger(), sa.ForeignKey("email_templates.id", ondelete="SET NULL")),
        sa.Column("data", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("api_key_id", "idempotency_key", name="uq_tx_messages_api_key_idempotency_key"),
    )
    op.create_index("ix_tx_messages_template_id_id", "tx_messages", ["template_id", "id"])
    op.create_table(
        "tx_campaigns",
        sa.Column(
            "template_id",
            sa.BigInteger(),
            sa.ForeignKey("email_templates.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "campaign_id",
            sa.BigInteger(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
    )
    op.add_column(
        "deliveries",
        sa.Column("tx_message_id", sa.BigInteger(), sa.ForeignKey("tx_messages.id", ondelete="CASCADE")),
    )
    op.create_index(
        "ux_deliveries_tx_message_id",
        "deliveries",
        ["tx_message_id"],
        unique=True,
        postgresql_where=sa.text("tx_message_id IS NOT NULL"),
    )
    op.create_index(
        "ix_deliveries_tx_unfinished",
        "deliveries",
        ["id"],
        postgresql_where=sa.text("tx_message_id IS NOT NULL AND status IN ('pending', 'sending', 'handing')"),
    )
    op.drop_index("ux_deliveries_campaign_contact", "deliveries")
    op.create_index(
        "ux_deliveries_campaign_contact",
        "deliveries",
        ["campaign_id", "contact_id"],
        unique=True,
        postgresql_where=sa.text("enrolment_id IS NULL AND tx_message_id IS NULL"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE tx_message_id IS NOT NULL")
    op.drop_index("ux_deliveries_campaign_contact", "deliveries")
    op.create_index(
        "ux_deliveries_campaign_contact",
        "deliveries",
        ["campaign_id", "contact_id"],
        unique=True,
        postgresql_where=sa.text("enrolment_id IS NULL"),
    )
    op.drop_index("ix_deliveries_tx_unfinished", "deliveries")
    op.drop_index("ux_deliveries_tx_message_id", "deliveries")
    op.drop_column("deliveries", "tx_message_id")
    op.drop_table("tx_campaigns")
    op.drop_table("tx_messages")
