"""deliveries.provider_message_id: the id an API provider gave the message when it took it (SES
MessageId, SendGrid X-Message-Id, Postmark MessageID, Mailgun id), so a provider's report that names
it finds the delivery. Indexed where set: only messages sent through a provider have one (adding
the column is instant; the index is built over the existing rows, none of which has an id yet).

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("provider_message_id", sa.Text(), nullable=True))
    op.create_index(
        "ix_deliveries_provider_message_id",
        "deliveries",
        ["provider_message_id"],
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_provider_message_id", table_name="deliveries")
    op.drop_column("deliveries", "provider_message_id")
