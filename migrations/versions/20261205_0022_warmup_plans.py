"""Warm-up plans: daily maxima for 30 days per SMTP server, API provider or From domain, with the bounce and
complaint rates that hold a plan back.

Revision ID: 0022
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warmup_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column(
            "smtp_server_id",
            sa.BigInteger(),
            sa.ForeignKey("smtp_servers.id", ondelete="CASCADE", name="fk_warmup_plans_smtp_server_id_smtp_servers"),
        ),
        sa.Column(
            "provider_id",
            sa.BigInteger(),
            sa.ForeignKey("providers.id", ondelete="CASCADE", name="fk_warmup_plans_provider_id_providers"),
        ),
        sa.Column("from_domain", sa.String(255)),
        sa.Column("starts_on", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column("daily_limits", ARRAY(sa.Integer()), nullable=False),
        sa.Column("bounce_threshold", sa.Float(), server_default="5", nullable=False),
        sa.Column("complaint_threshold", sa.Float(), server_default="0.3", nullable=False),
        sa.Column("min_sample", sa.Integer(), server_default="100", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True)),
        sa.Column("held_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("released_by", sa.String(320), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_warmup_plans"),
        sa.CheckConstraint("scope IN ('smtp_server', 'provider', 'from_domain')", name="ck_warmup_plans_scope"),
        sa.CheckConstraint(
            "(scope = 'smtp_server') = (smtp_server_id IS NOT NULL)"
            " AND (scope = 'provider') = (provider_id IS NOT NULL)"
            " AND (scope = 'from_domain') = (from_domain IS NOT NULL)",
            name="ck_warmup_plans_scope_target",
        ),
        sa.CheckConstraint("cardinality(daily_limits) = 30", name="ck_warmup_plans_thirty_days"),
    )
    op.create_index("ux_warmup_plans_smtp_server_id", "warmup_plans", ["smtp_server_id"], unique=True)
    op.create_index("ux_warmup_plans_provider_id", "warmup_plans", ["provider_id"], unique=True)
    op.create_index("ux_warmup_plans_from_domain", "warmup_plans", ["from_domain"], unique=True)


def downgrade() -> None:
    op.drop_table("warmup_plans")
