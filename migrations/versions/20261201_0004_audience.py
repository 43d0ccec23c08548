"""audience: segment rules on lists, public subscription settings, consent records, subscriber
preferences, the global suppression list, and indexes for the segment conditions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(op.f('ck_contacts_status'), 'contacts', type_='check')
    op.create_check_constraint(
        op.f('ck_contacts_status'), 'contacts', "status IN ('active', 'unsubscribed', 'bounced', 'complained', 'pending')"
    )
    op.add_column('contacts', sa.Column('language', sa.String(length=8), server_default='', nullable=False))
    op.add_column('contacts', sa.Column('frequency', sa.String(length=20), server_default='', nullable=False))
    op.add_column('contacts', sa.Column('topics', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False))
    op.add_column('contacts', sa.Column(
        'email_hash', sa.LargeBinary(), sa.Computed(r"sha256(decode(replace(lower(email), '\', '\\'), 'escape'))", persisted=True), nullable=False,
    ))
    op.create_index('ix_contacts_last_opened', 'contacts', ['last_opened'], postgresql_where=sa.text('last_opened IS NOT NULL'))
    op.create_index('ix_contacts_last_clicked', 'contacts', ['last_clicked'], postgresql_where=sa.text('last_clicked IS NOT NULL'))

    op.add_column('email_lists', sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('email_lists', sa.Column('rules', postgresql.JSONB(), nullable=True))
    op.add_column('email_lists', sa.Column('parent_list_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f('fk_email_lists_parent_list_id_email_lists'), 'email_lists', 'email_lists',
        ['parent_list_id'], ['id'], ondelete='RESTRICT',
    )
    op.add_column('email_lists', sa.Column('is_public', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('email_lists', sa.Column('double_opt_in', sa.Boolean(), server_default='true', nullable=False))
    op.add_column('email_lists', sa.Column('consent_text', sa.Text(), server_default='', nullable=False))

    op.create_table(
        'subscriptions',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('contact_id', sa.BigInteger(), nullable=False),
        sa.Column('list_id', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=200), server_default='', nullable=False),
        sa.Column('ip_address', sa.String(length=64), server_default='', nullable=False),
        sa.Column('user_agent', sa.Text(), server_default='', nullable=False),
        sa.Column('consent_text', sa.Text(), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'unsubscribed')", name=op.f('ck_subscriptions_status')),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_subscriptions_contact_id_contacts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['list_id'], ['email_lists.id'], name=op.f('fk_subscriptions_list_id_email_lists'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    )
    op.create_index('uq_subscriptions_contact_list', 'subscriptions', ['contact_id', 'list_id'], unique=True)
    op.create_index('ix_subscriptions_list_id', 'subscriptions', ['list_id'])

    op.create_table(
        'suppressions',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('email_hash', sa.LargeBinary(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('source', sa.String(length=200), server_default='', nullable=False),
        sa.Column('created_by', sa.String(length=320), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint(
            "reason IN ('bounce', 'complaint', 'unsubscribe', 'manual', 'compliance')", name=op.f('ck_suppressions_reason')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
    )
    op.create_index('uq_suppressions_email_hash', 'suppressions', ['email_hash'], unique=True)
    op.execute('CREATE INDEX ix_suppressions_email_lower ON suppressions (lower(email) text_pattern_ops)')
    op.create_index('ix_suppressions_created_at_id', 'suppressions', ['created_at', 'id'])
    op.create_index('ix_suppressions_reason_created_at_id', 'suppressions', ['reason', 'created_at', 'id'])


def downgrade() -> None:
    op.drop_table('suppressions')
    op.drop_table('subscriptions')
    for column in ('consent_text', 'double_opt_in', 'is_public', 'parent_list_id', 'rules', 'counted_at'):
        op.drop_column('email_lists', column)
    op.drop_index('ix_contacts_last_clicked', table_name='contacts')
    op.drop_index('ix_contacts_last_opened', table_name='contacts')
    for column in ('email_hash', 'topics', 'frequency', 'language'):
        op.drop_column('contacts', column)
    op.drop_constraint(op.f('ck_contacts_status'), 'contacts', type_='check')
    op.create_check_constraint(
        op.f('ck_contacts_status'), 'contacts', "status IN ('active', 'unsubscribed', 'bounced', 'complained')"
    )
