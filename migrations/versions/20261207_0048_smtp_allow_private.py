"""An SMTP server on a private, loopback or link-local address needs an admin's explicit choice, as
a webhook, an API provider's address and a seed mailbox do. Servers saved before keep working: they
were saved when no such choice existed, so they are marked as chosen.

Revision ID: 0048
Revises: 0047
"""

import sqlalchemy as sa
from alembic import op

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("smtp_servers", sa.Column("allow_private", sa.Boolean(), server_default="false", nullable=False))
    op.execute("UPDATE smtp_servers SET allow_private = true")


def downgrade() -> None:
    op.drop_column("smtp_servers", "allow_private")
