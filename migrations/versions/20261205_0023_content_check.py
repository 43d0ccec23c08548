"""The pre-send content check: each campaign keeps its last check (score, findings, the content's
fingerprint) and the admin who overrode a score over the threshold, and when.

Revision ID: 0023
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("content_check", JSONB()))
    op.add_column("campaigns", sa.Column("content_override_by", sa.String(320), server_default="", nullable=False))
    op.add_column("campaigns", sa.Column("content_override_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("campaigns", "content_override_at")
    op.drop_column("campaigns", "content_override_by")
    op.drop_column("campaigns", "content_check")
