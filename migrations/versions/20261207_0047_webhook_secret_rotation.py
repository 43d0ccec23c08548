"""A webhook endpoint's signing secret can be replaced: the one it replaces may go on signing beside
it for a while, so the receiver can switch without refusing a request.

Revision ID: 0047
Revises: 0046
"""

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_endpoints", sa.Column("previous_secret_encrypted", sa.LargeBinary(), nullable=True))
    op.add_column("webhook_endpoints", sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_endpoints", "previous_secret_until")
    op.drop_column("webhook_endpoints", "previous_secret_encrypted")
