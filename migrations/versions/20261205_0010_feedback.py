"""Provider feedback: email_events gain the kinds 'delivered' and 'deferred'; deliveries gain
delivered_at (a delivery is counted delivered once, whoever reports it) and the indexes that find a
delivery from a provider report (by Message-ID, else by the recipient's address)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('open', 'click', 'unsubscribe', 'bounce', 'complaint', 'failure')"
NEW_KINDS = "kind IN ('open', 'click', 'unsubscribe', 'bounce', 'complaint', 'failure', 'delivered', 'deferred')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_email_events_kind"), "email_events", type_="check")
    op.create_check_constraint(op.f("ck_email_events_kind"), "email_events", NEW_KINDS)
    op.add_column("deliveries", sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_deliveries_message_id", "deliveries", ["message_id"], postgresql_where=sa.text("message_id IS NOT NULL")
    )
    op.create_index("ix_deliveries_email_lower_id", "deliveries", [sa.text("lower(email)"), "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_email_lower_id", table_name="deliveries")
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    op.drop_column("deliveries", "delivered_at")
    op.execute("DELETE FROM email_events WHERE kind IN ('delivered', 'deferred')")
    op.drop_constraint(op.f("ck_email_events_kind"), "email_events", type_="check")
    op.create_check_constraint(op.f("ck_email_events_kind"), "email_events", OLD_KINDS)
