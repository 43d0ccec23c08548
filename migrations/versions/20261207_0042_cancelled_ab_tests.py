"""An A/B test ends as `cancelled` with its campaign: its report no longer waits for a winner
that can never be sent.

Revision ID: 0042
Revises: 0041
"""

from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None

BEFORE = "status IN ('draft', 'testing', 'waiting', 'winner_chosen', 'sent')"
AFTER = "status IN ('draft', 'testing', 'waiting', 'winner_chosen', 'sent', 'cancelled')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_ab_tests_status"), "ab_tests", type_="check")
    op.create_check_constraint(op.f("ck_ab_tests_status"), "ab_tests", AFTER)
    op.execute(
        "UPDATE ab_tests SET status = 'cancelled' FROM campaigns "
        "WHERE campaigns.id = ab_tests.campaign_id AND campaigns.status = 'cancelled' "
        "AND ab_tests.status IN ('draft', 'testing', 'waiting')"
    )


def downgrade() -> None:
    op.execute("UPDATE ab_tests SET status = 'waiting' WHERE status = 'cancelled'")
    op.drop_constraint(op.f("ck_ab_tests_status"), "ab_tests", type_="check")
    op.create_check_constraint(op.f("ck_ab_tests_status"), "ab_tests", BEFORE)
