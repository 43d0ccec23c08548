"""analytics: rollups of the event log (per campaign per hour, per link, per client and device, per
recipient domain, the audience per day, each delivery's firsts), and the client, device and machine
flag of each event; the rollups are built from the events already stored

Revision ID: 0012
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def counters(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in names]


def upgrade() -> None:
    op.add_column('email_events', sa.Column('client', sa.String(length=40), server_default='', nullable=False))
    op.add_column('email_events', sa.Column('device', sa.String(length=20), server_default='', nullable=False))
    op.add_column('email_events', sa.Column('machine', sa.Boolean(), server_default='false', nullable=False))
    op.create_table(
        'analytics_campaign_hourly',
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        *counters('sent', 'delivered', 'opens', 'unique_opens', 'human_unique_opens', 'machine_opens', 'clicks',
                  'unique_clicks', 'human_unique_clicks', 'scanner_clicks', 'hard_bounces', 'soft_bounces',
                  'complaints', 'unsubscribes'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_analytics_campaign_hourly_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'hour', name=op.f('pk_analytics_campaign_hourly')),
    )
    op.create_table(
        'analytics_link_clicks',
        sa.Column('link_id', sa.BigInteger(), nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        *counters('clicks', 'unique_clicks', 'human_clicks'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_analytics_link_clicks_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['link_id'], ['links.id'], name=op.f('fk_analytics_link_clicks_link_id_links'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('link_id', name=op.f('pk_analytics_link_clicks')),
    )
    op.create_index(op.f('ix_analytics_link_clicks_campaign_id'), 'analytics_link_clicks', ['campaign_id'])
    op.create_table(
        'analytics_campaign_clients',
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        sa.Column('client', sa.String(length=40), nullable=False),
        sa.Column('device', sa.String(length=20), nullable=False),
        *counters('opens', 'unique_opens'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_analytics_campaign_clients_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'client', 'device', name=op.f('pk_analytics_campaign_clients')),
    )
    op.create_table(
        'analytics_campaign_domains',
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        sa.Column('domain', sa.Text(), nullable=False),
        *counters('sent', 'opened', 'human_opened', 'clicked', 'bounced', 'complained'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_analytics_campaign_domains_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'domain', name=op.f('pk_analytics_campaign_domains')),
    )
    op.create_table(
        'analytics_audience_daily',
        sa.Column('day', sa.Date(), nullable=False),
        *counters('subscribed', 'unsubscribed', 'bounced'),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_analytics_audience_daily')),
    )
    op.create_table(
        'analytics_engagement_firsts',
        sa.Column('delivery_id', sa.BigInteger(), nullable=False),
        sa.Column('what', sa.String(length=16), nullable=False),
        sa.Column('link_id', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_analytics_engagement_firsts_delivery_id_deliveries'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('delivery_id', 'what', 'link_id', name=op.f('pk_analytics_engagement_firsts')),
    )


def downgrade() -> None:
    for table in ('analytics_engagement_firsts', 'analytics_audience_daily', 'analytics_campaign_domains',
                  'analytics_campaign_clients', 'analytics_link_clicks', 'analytics_campaign_hourly'):
        op.drop_table(table)
    op.drop_column('email_events', 'machine')
    op.drop_column('email_events', 'device')
    op.drop_column('email_events', 'client')
