"""deliveries: a `cancelled` status, final, for the rows a cancelled campaign never sent

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BEFORE = "'pending', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed', 'failed'"


def upgrade() -> None:
    op.drop_constraint(op.f('ck_deliveries_status'), 'deliveries', type_='check')
    op.create_check_constraint(op.f('ck_deliveries_status'), 'deliveries', f"status IN ({BEFORE}, 'cancelled')")


def downgrade() -> None:
    op.execute("UPDATE deliveries SET status = 'failed' WHERE status = 'cancelled'")
    op.drop_constraint(op.f('ck_deliveries_status'), 'deliveries', type_='check')
    op.create_check_constraint(op.f('ck_deliveries_status'), 'deliveries', f"status IN ({BEFORE})")
