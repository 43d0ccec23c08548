"""ab tests: a campaign's A/B test, its 2 to 8 variants, and the variant each delivery was sent

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ab_tests',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        sa.Column('test_percent', sa.Integer(), server_default='20', nullable=False),
        sa.Column('wait_minutes', sa.Integer(), server_default='240', nullable=False),
        sa.Column('criterion', sa.String(length=20), server_default='human_opens', nullable=False),
        sa.Column('confidence_level', sa.Integer(), server_default='95', nullable=False),
        sa.Column('fallback', sa.String(length=20), server_default='control', nullable=False),
        sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
        sa.Column('chosen_variant_id', sa.BigInteger(), nullable=True),
        sa.Column('decision_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('test_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'testing', 'waiting', 'winner_chosen', 'sent')", name=op.f('ck_ab_tests_status')),
        sa.CheckConstraint("criterion IN ('human_opens', 'clicks', 'revenue', 'manual')", name=op.f('ck_ab_tests_criterion')),
        sa.CheckConstraint("fallback IN ('control', 'leader')", name=op.f('ck_ab_tests_fallback')),
        sa.CheckConstraint('test_percent BETWEEN 1 AND 50', name=op.f('ck_ab_tests_test_percent')),
        sa.CheckConstraint('confidence_level BETWEEN 80 AND 99', name=op.f('ck_ab_tests_confidence_level')),
        sa.CheckConstraint('wait_minutes > 0', name=op.f('ck_ab_tests_wait_minutes')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_ab_tests_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ab_tests')),
        sa.UniqueConstraint('campaign_id', name=op.f('uq_ab_tests_campaign_id')),
    )
    op.create_index('ix_ab_tests_created_at_id', 'ab_tests', ['created_at', 'id'])
    op.create_table(
        'ab_test_variants',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('ab_test_id', sa.BigInteger(), nullable=False),
        sa.Column('position', sa.SmallInteger(), nullable=False),
        sa.Column('label', sa.String(length=50), nullable=False),
        sa.Column('is_control', sa.Boolean(), server_default='false', nullable=False),
        sa.Column('subject', sa.String(length=500), nullable=True),
        sa.Column('from_name', sa.String(length=200), nullable=True),
        sa.Column('preheader', sa.String(length=500), nullable=True),
        sa.Column('html_content', sa.Text(), nullable=True),
        sa.Column('text_content', sa.Text(), nullable=True),
        sa.CheckConstraint('position BETWEEN 0 AND 7', name=op.f('ck_ab_test_variants_position')),
        sa.ForeignKeyConstraint(['ab_test_id'], ['ab_tests.id'], name=op.f('fk_ab_test_variants_ab_test_id_ab_tests'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ab_test_variants')),
        sa.UniqueConstraint('ab_test_id', 'position', name='uq_ab_test_variants_test_position'),
        sa.UniqueConstraint('ab_test_id', 'label', name='uq_ab_test_variants_test_label'),
    )
    op.create_index('ux_ab_test_variants_control', 'ab_test_variants', ['ab_test_id'], unique=True,
                    postgresql_where=sa.text('is_control'))
    op.create_foreign_key(op.f('fk_ab_tests_chosen_variant_id_ab_test_variants'), 'ab_tests', 'ab_test_variants',
                          ['chosen_variant_id'], ['id'], ondelete='SET NULL')
    op.add_column('deliveries', sa.Column('ab_variant_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_deliveries_ab_variant_id_ab_test_variants'), 'deliveries', 'ab_test_variants',
                          ['ab_variant_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_deliveries_ab_variant_id', 'deliveries', ['ab_variant_id'],
                    postgresql_where=sa.text('ab_variant_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_deliveries_ab_variant_id', table_name='deliveries')
    op.drop_column('deliveries', 'ab_variant_id')
    op.drop_constraint(op.f('fk_ab_tests_chosen_variant_id_ab_test_variants'), 'ab_tests', type_='foreignkey')
    op.drop_table('ab_test_variants')
    op.drop_table('ab_tests')
