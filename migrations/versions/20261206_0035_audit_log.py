"""The audit log: who changed what, and sign-ins (webapp/audit).

Revision ID: 0035
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(20), server_default="", nullable=False),
        sa.Column("action", sa.String(200), nullable=False),
        sa.Column("path", sa.String(2000), server_default="", nullable=False),
        sa.Column("area", sa.String(50), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("ip", sa.String(64), server_default="", nullable=False),
    )
    op.create_index("ix_audit_events_occurred_at_id", "audit_events", ["occurred_at", "id"])
    op.create_index("ix_audit_events_actor_occurred_at_id", "audit_events", ["actor", "occurred_at", "id"])
    op.create_index("ix_audit_events_area_occurred_at_id", "audit_events", ["area", "occurred_at", "id"])


def downgrade() -> None:
    op.drop_table("audit_events")
