"""sending: templates, campaigns, deliveries, tracking, smtp servers

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_app_settings'))
    )
    op.create_table('email_templates',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=500), server_default='', nullable=False),
    sa.Column('html_content', sa.Text(), server_default='', nullable=False),
    sa.Column('text_content', sa.Text(), server_default='', nullable=False),
    sa.Column('template_type', sa.String(length=20), server_default='marketing', nullable=False),
    sa.Column('category', sa.String(length=100), server_default='', nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('variables', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_by', sa.String(length=320), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("template_type IN ('marketing', 'transactional')", name=op.f('ck_email_templates_template_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_templates'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('mail_from', sa.String(length=320), nullable=False),
    sa.Column('rcpt_to', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), server_default='', nullable=False),
    sa.Column('message_id', sa.String(length=255), server_default='', nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    op.create_table('smtp_servers',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('tls_mode', sa.String(length=10), nullable=False),
    sa.Column('username', sa.String(length=320), server_default='', nullable=False),
    sa.Column('password_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('rate_per_second', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rate_per_hour', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rate_per_day', sa.Integer(), server_default='0', nullable=False),
    sa.Column('max_connections', sa.Integer(), server_default='5', nullable=False),
    sa.Column('priority', sa.Integer(), server_default='0', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('last_error', sa.Text(), server_default='', nullable=False),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("tls_mode IN ('none', 'starttls', 'tls')", name=op.f('ck_smtp_servers_tls_mode')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_smtp_servers'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=500), server_default='', nullable=False),
    sa.Column('from_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('from_email', sa.String(length=320), server_default='', nullable=False),
    sa.Column('reply_to', sa.String(length=320), server_default='', nullable=False),
    sa.Column('template_id', sa.BigInteger(), nullable=True),
    sa.Column('html_content', sa.Text(), server_default='', nullable=False),
    sa.Column('text_content', sa.Text(), server_default='', nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text('\'{"track_opens": true, "track_clicks": true, "unsubscribe_link": true, "suppress_duplicates": true}\''), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('status_reason', sa.Text(), server_default='', nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('materialised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('total_recipients', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sent_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('delivered_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('opened_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('clicked_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('bounced_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unsubscribed_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('complained_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_by', sa.String(length=320), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'scheduled', 'sending', 'sent', 'paused', 'cancelled', 'failed')", name=op.f('ck_campaigns_status')),
    sa.ForeignKeyConstraint(['template_id'], ['email_templates.id'], name=op.f('fk_campaigns_template_id_email_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_index('ix_campaigns_created_at_id', 'campaigns', ['created_at', 'id'], unique=False)
    op.create_index('ix_campaigns_status_scheduled_at', 'campaigns', ['status', 'scheduled_at'], unique=False)
    op.create_table('campaign_lists',
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('list_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_lists_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['email_lists.id'], name=op.f('fk_campaign_lists_list_id_email_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'list_id', name=op.f('pk_campaign_lists'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('contact_id', sa.BigInteger(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('smtp_server_id', sa.BigInteger(), nullable=True),
    sa.Column('error_message', sa.Text(), server_default='', nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed', 'failed')", name=op.f('ck_deliveries_status')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_deliveries_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_deliveries_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['smtp_server_id'], ['smtp_servers.id'], name=op.f('fk_deliveries_smtp_server_id_smtp_servers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('campaign_id', 'contact_id', name='uq_deliveries_campaign_contact')
    )
    op.create_index('ix_deliveries_campaign_status', 'deliveries', ['campaign_id', 'status'], unique=False)
    op.create_index('ix_deliveries_claimable', 'deliveries', ['campaign_id', 'id'], unique=False, postgresql_where=sa.text("status IN ('pending', 'sending')"))
    op.create_index('ix_deliveries_contact_id', 'deliveries', ['contact_id'], unique=False)
    op.create_table('links',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_links_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_links')),
    sa.UniqueConstraint('campaign_id', 'url', name='uq_links_campaign_url')
    )
    op.create_table('email_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('delivery_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('contact_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('link_id', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('open', 'click', 'unsubscribe', 'bounce', 'complaint', 'failure')", name=op.f('ck_email_events_kind')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_email_events_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_email_events_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_email_events_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['links.id'], name=op.f('fk_email_events_link_id_links'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_events'))
    )
    op.create_index('ix_email_events_campaign_kind_at', 'email_events', ['campaign_id', 'kind', 'at'], unique=False)
    op.create_index('ix_email_events_contact_id_at', 'email_events', ['contact_id', 'at'], unique=False)
    op.add_column('contacts', sa.Column('emails_sent', sa.Integer(), server_default='0', nullable=False))
    op.add_column('contacts', sa.Column('emails_opened', sa.Integer(), server_default='0', nullable=False))
    op.add_column('contacts', sa.Column('emails_clicked', sa.Integer(), server_default='0', nullable=False))
    op.add_column('contacts', sa.Column('last_opened', sa.DateTime(timezone=True), nullable=True))
    op.add_column('contacts', sa.Column('last_clicked', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('contacts', 'last_clicked')
    op.drop_column('contacts', 'last_opened')
    op.drop_column('contacts', 'emails_clicked')
    op.drop_column('contacts', 'emails_opened')
    op.drop_column('contacts', 'emails_sent')
    op.drop_index('ix_email_events_contact_id_at', table_name='email_events')
    op.drop_index('ix_email_events_campaign_kind_at', table_name='email_events')
    op.drop_table('email_events')
    op.drop_table('links')
    op.drop_index('ix_deliveries_contact_id', table_name='deliveries')
    op.drop_index('ix_deliveries_claimable', table_name='deliveries', postgresql_where=sa.text("status IN ('pending', 'sending')"))
    op.drop_index('ix_deliveries_campaign_status', table_name='deliveries')
    op.drop_table('deliveries')
    op.drop_table('campaign_lists')
    op.drop_index('ix_campaigns_status_scheduled_at', table_name='campaigns')
    op.drop_index('ix_campaigns_created_at_id', table_name='campaigns')
    op.drop_table('campaigns')
    op.drop_table('smtp_servers')
    op.drop_table('outbox_messages')
    op.drop_table('email_templates')
    op.drop_table('app_settings')
