"""deliveries: a `held` status for the recipients an A/B test keeps back until its winner is chosen;
never claimed (ix_deliveries_claimable covers pending and sending only), released as pending

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BEFORE = (
    "'pending', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed', "
    "'failed', 'cancelled', 'skipped'"
)


def upgrade() -> None:
    op.drop_constraint(op.f("ck_deliveries_status"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_status"), "deliveries", f"status IN ({BEFORE}, 'held')")


def downgrade() -> None:
    op.execute("UPDATE deliveries SET status = 'cancelled' WHERE status = 'held'")
    op.drop_constraint(op.f("ck_deliveries_status"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_status"), "deliveries", f"status IN ({BEFORE})")
