"""inbox placement: seed mailboxes (IMAP, password encrypted), placement tests of a campaign, and a
copy per seed with the folder it landed in and its authentication results.

Revision ID: 0024
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seed_mailboxes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("tls_mode", sa.String(10), nullable=False),
        sa.Column("username", sa.String(320), nullable=False),
        sa.Column("password_encrypted", sa.LargeBinary()),
        sa.Column("spam_folder", sa.String(200), nullable=False, server_default=""),
        sa.Column("allow_private", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("tls_mode IN ('none', 'starttls', 'tls')", name="tls_mode"),
    )
    op.create_table(
        "placement_tests",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "campaign_id", sa.BigInteger(), sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("wait_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('sending', 'waiting', 'done')", name="status"),
    )
    op.create_index("ix_placement_tests_campaign_id", "placement_tests", ["campaign_id"])
    op.create_table(
        "placement_copies",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "test_id", sa.BigInteger(), sa.ForeignKey("placement_tests.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("seed_id", sa.BigInteger(), sa.ForeignKey("seed_mailboxes.id", ondelete="SET NULL")),
        sa.Column("seed_name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("folder", sa.String(200), nullable=False, server_default=""),
        sa.Column("placement", sa.String(20), nullable=False, server_default=""),
        sa.Column("category", sa.String(40), nullable=False, server_default=""),
        sa.Column("authentication", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("arrived_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'sent', 'arrived', 'missing', 'failed')", name="status"),
    )
    op.create_index("ix_placement_copies_test_id", "placement_copies", ["test_id"])


def downgrade() -> None:
    op.drop_table("placement_copies")
    op.drop_table("placement_tests")
    op.drop_table("seed_mailboxes")
