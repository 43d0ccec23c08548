"""conversions: orders recorded by the API or the conversion pixel, each with the click it is
credited to; a campaign's revenue per currency is read from one covering index

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversions',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('order_id', sa.String(200), nullable=False),
        sa.Column('contact_id', sa.BigInteger(), sa.ForeignKey('contacts.id', ondelete='SET NULL', name='fk_conversions_contact_id_contacts')),
        sa.Column('amount', sa.Numeric(), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(10), nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), sa.ForeignKey('campaigns.id', ondelete='SET NULL', name='fk_conversions_campaign_id_campaigns')),
        sa.Column('delivery_id', sa.BigInteger(), sa.ForeignKey('deliveries.id', ondelete='SET NULL', name='fk_conversions_delivery_id_deliveries')),
        sa.Column('link_id', sa.BigInteger(), sa.ForeignKey('links.id', ondelete='SET NULL', name='fk_conversions_link_id_links')),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_conversions'),
        sa.UniqueConstraint('order_id', name='uq_conversions_order_id'),
        sa.CheckConstraint('amount > 0', name='ck_conversions_amount_positive'),
        sa.CheckConstraint("source IN ('api', 'pixel')", name='ck_conversions_source'),
    )
    op.create_index('ix_conversions_campaign_currency', 'conversions', ['campaign_id', 'currency'],
                    postgresql_include=['amount'], postgresql_where=sa.text('campaign_id IS NOT NULL'))
    op.create_index('ix_conversions_contact_id', 'conversions', ['contact_id'])


def downgrade() -> None:
    op.drop_table('conversions')
