"""routing: rules (by recipient domain or group, message kind, campaign; weighted transports),
per-recipient-domain throttles with their defaults, and each transport's hourly figures

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# Ceilings for an established sender; a receiver's 4xx deferrals lower them on their own.
DEFAULT_THROTTLES = {"google": 3000, "microsoft": 1000, "yahoo": 1000, "apple": 500, "gmx": 500}


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), server_default="100", nullable=False),
        sa.Column("domains", ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("kinds", ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "campaign_id",
            sa.BigInteger(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE", name="fk_routing_rules_campaign_id_campaigns"),
        ),
        sa.Column("targets", JSONB(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_rules"),
    )
    throttles = op.create_table(
        "domain_throttles",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("bucket", sa.String(253), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_domain_throttles"),
        sa.UniqueConstraint("bucket", name="uq_domain_throttles_bucket"),
        sa.CheckConstraint("per_minute > 0", name="ck_domain_throttles_per_minute_positive"),
    )
    op.bulk_insert(throttles, [{"bucket": b, "per_minute": n} for b, n in DEFAULT_THROTTLES.items()])
    op.create_table(
        "transport_hours",
        sa.Column("transport", sa.String(40), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        *(
            sa.Column(name, sa.Integer(), server_default="0", nullable=False)
            for name in ("sent", "deferred", "errors", "bounced", "complained")
        ),
        sa.Column("latency_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("timed", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("transport", "hour", name="pk_transport_hours"),
    )


def downgrade() -> None:
    op.drop_table("transport_hours")
    op.drop_table("domain_throttles")
    op.drop_table("routing_rules")
