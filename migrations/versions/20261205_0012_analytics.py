"""analytics: email_events partitioned by month on `at` (retention drops whole months; its unique
keys gain `at`), the client, device and machine flag of each event, and rollups of the event log (per
campaign per hour, per link, per client and device, per recipient domain, the audience per day, each
delivery's firsts), built from the events already stored

Revision ID: 0012
Revises: 0010
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from webapp.analytics.queries import partitions, rollups
from webapp.analytics.service.classify import OPEN_PREFETCH_SECONDS, SCANNER_CLICK_SECONDS, classify
from webapp.analytics.service.partitions import MONTHS_AHEAD, months_from

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def counters(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in names]


EVENT_FOREIGN_KEYS = (('campaign_id', 'campaigns', 'CASCADE'), ('contact_id', 'contacts', 'SET NULL'),
                      ('delivery_id', 'deliveries', 'CASCADE'), ('link_id', 'links', 'SET NULL'))


def partition_events() -> None:
    """The same table, partitioned by month: a month for every month with events up to MONTHS_AHEAD
    ahead, and the default partition. Its check constraints (the kinds) are copied as they are."""
    op.execute('ALTER TABLE email_events RENAME TO email_events_unpartitioned')
    op.execute("""CREATE TABLE email_events (LIKE email_events_unpartitioned
                  INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY) PARTITION BY RANGE (at)""")
    bind = op.get_bind()
    now = datetime.now(UTC).date()
    first = bind.scalar(sa.text('SELECT min(at) FROM email_events_unpartitioned')) or now
    month = partitions.month_start(min(first if not isinstance(first, datetime) else first.date(), now))
    while month <= months_from(now, MONTHS_AHEAD + 1)[-1]:
        op.execute(partitions.create_partition_sql(month))
        month = partitions.next_month(month)
    op.execute(partitions.create_default_sql())
    op.execute('INSERT INTO email_events OVERRIDING SYSTEM VALUE SELECT * FROM email_events_unpartitioned')
    op.execute("SELECT setval(pg_get_serial_sequence('email_events', 'id'), coalesce(max(id), 0) + 1, false) FROM email_events")
    op.execute('DROP TABLE email_events_unpartitioned')
    op.create_primary_key('pk_email_events', 'email_events', ['id', 'at'])
    op.create_index('ix_email_events_campaign_kind_at', 'email_events', ['campaign_id', 'kind', 'at'])
    op.create_index('ix_email_events_contact_id_at', 'email_events', ['contact_id', 'at'])
    op.create_index('ux_email_events_event_key_at', 'email_events', ['event_key', 'at'], unique=True)
    for column, table, on_delete in EVENT_FOREIGN_KEYS:
        op.create_foreign_key(f'fk_email_events_{column}_{table}', 'email_events', table, [column], ['id'], ondelete=on_delete)


def classify_stored_events() -> None:
    """Each stored open's and click's agent, one UPDATE per batch of distinct agents, and the timing
    rules (an open or click right after sending). The burst rule applies from now on only."""
    bind = op.get_bind()
    agents = list(bind.scalars(sa.text("SELECT DISTINCT user_agent FROM email_events WHERE kind IN ('open', 'click')")))
    found = [classify(agent) for agent in agents]
    bind.execute(
        sa.text("""UPDATE email_events e SET client = a.client, device = a.device, machine = a.machine
                   FROM unnest(CAST(:agents AS text[]), CAST(:clients AS text[]), CAST(:devices AS text[]),
                               CAST(:machines AS boolean[])) AS a(agent, client, device, machine)
                   WHERE e.user_agent = a.agent AND e.kind IN ('open', 'click')"""),
        {"agents": agents, "clients": [a.client for a in found], "devices": [a.device for a in found],
         "machines": [a.machine for a in found]},
    )
    bind.execute(
        sa.text("""UPDATE email_events e SET machine = true FROM deliveries d
                   WHERE d.id = e.delivery_id AND NOT e.machine AND (
                     (e.kind = 'open' AND e.at < d.sent_at + :open_prefetch * interval '1 second')
                     OR (e.kind = 'click' AND e.at < d.sent_at + :scanner_click * interval '1 second'))"""),
        {"open_prefetch": OPEN_PREFETCH_SECONDS, "scanner_click": SCANNER_CLICK_SECONDS},
    )


def build_rollups() -> None:
    bind = op.get_bind()
    bind.execute(rollups.REBUILD_EVENTS)
    bind.execute(rollups.REBUILD_SENDS)
    if (since := bind.scalar(rollups.FIRST_AUDIENCE_DAY)) is not None:
        bind.execute(rollups.AUDIENCE, {"since": since})


def upgrade() -> None:
    op.add_column('email_events', sa.Column('client', sa.String(length=40), server_default='', nullable=False))
    op.add_column('email_events', sa.Column('device', sa.String(length=20), server_default='', nullable=False))
    op.add_column('email_events', sa.Column('machine', sa.Boolean(), server_default='false', nullable=False))
    op.drop_index('ux_email_events_event_key', table_name='email_events')
    partition_events()
    classify_stored_events()
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
        *counters('opens', 'unique_opens', 'human_unique_opens'),  # the last added by 0043 where this ran before
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_analytics_campaign_clients_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'client', 'device', name=op.f('pk_analytics_campaign_clients')),
    )
    op.create_table(
        'analytics_campaign_domains',
        sa.Column('campaign_id', sa.BigInteger(), nullable=False),
        sa.Column('domain', sa.Text(), nullable=False),
        *counters('sent', 'opened', 'human_opened', 'clicked', 'human_clicked', 'bounced', 'complained'),
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
    build_rollups()


def unpartition_events() -> None:
    """Back to one table (every partition's rows), with the unique event key of before."""
    op.execute('ALTER TABLE email_events RENAME TO email_events_partitioned')
    op.execute("""CREATE TABLE email_events (LIKE email_events_partitioned
                  INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)""")
    op.execute('INSERT INTO email_events OVERRIDING SYSTEM VALUE SELECT * FROM email_events_partitioned')
    op.execute("SELECT setval(pg_get_serial_sequence('email_events', 'id'), coalesce(max(id), 0) + 1, false) FROM email_events")
    op.execute('DROP TABLE email_events_partitioned')
    op.create_primary_key('pk_email_events', 'email_events', ['id'])
    op.create_index('ix_email_events_campaign_kind_at', 'email_events', ['campaign_id', 'kind', 'at'])
    op.create_index('ix_email_events_contact_id_at', 'email_events', ['contact_id', 'at'])
    op.create_index('ux_email_events_event_key', 'email_events', ['event_key'], unique=True)
    for column, table, on_delete in EVENT_FOREIGN_KEYS:
        op.create_foreign_key(f'fk_email_events_{column}_{table}', 'email_events', table, [column], ['id'], ondelete=on_delete)


def downgrade() -> None:
    for table in ('analytics_engagement_firsts', 'analytics_audience_daily', 'analytics_campaign_domains',
                  'analytics_campaign_clients', 'analytics_link_clicks', 'analytics_campaign_hourly'):
        op.drop_table(table)
    unpartition_events()
    op.drop_column('email_events', 'machine')
    op.drop_column('email_events', 'device')
    op.drop_column('email_events', 'client')
