"""users: two-step sign-in (TOTP, RFC 6238): the authenticator's secret (encrypted), the last time
step a code was used in (so no code works twice), and the recovery codes left (SHA-256 of each).

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_secret_encrypted", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column(
        "users",
        sa.Column("recovery_code_hashes", postgresql.ARRAY(sa.String(64)), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_column("users", "recovery_code_hashes")
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_secret_encrypted")
