"""deliveries: index (campaign_id, id) for a campaign's recipient pages in send order

Without it the keyset page `WHERE campaign_id = :c AND id > :cursor ORDER BY id` walks the primary
key through every other campaign's deliveries first.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_deliveries_campaign_id_id', 'deliveries', ['campaign_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_deliveries_campaign_id_id', table_name='deliveries')
