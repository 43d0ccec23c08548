"""People's opens per mail client and people's clicks per domain, as every other figure of the report
counts them (machine opens and link scanners' clicks left out). Filled in from the events kept.

Revision ID: 0043
Revises: 0042
"""

from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS: 0012 builds its rollups with the app's current SQL, so where it ran after this
    # change it made these columns itself.
    op.execute("ALTER TABLE analytics_campaign_clients ADD COLUMN IF NOT EXISTS human_unique_opens integer DEFAULT 0 NOT NULL")
    op.execute("ALTER TABLE analytics_campaign_domains ADD COLUMN IF NOT EXISTS human_clicked integer DEFAULT 0 NOT NULL")
    # A message's first click by a person, counted once per domain (the firsts the rollups keep).
    op.execute("""
        UPDATE analytics_campaign_domains t SET human_clicked = s.n
        FROM (SELECT d.campaign_id, lower(split_part(d.email, '@', 2)) AS domain, count(*) AS n
              FROM analytics_engagement_firsts f JOIN deliveries d ON d.id = f.delivery_id
              WHERE f.what = 'human_clicked' AND d.campaign_id IS NOT NULL GROUP BY 1, 2) s
        WHERE t.campaign_id = s.campaign_id AND t.domain = s.domain
    """)
    # A message's first open or click by a person, where it was an open: counted for its client.
    op.execute("""
        UPDATE analytics_campaign_clients t SET human_unique_opens = s.n
        FROM (SELECT campaign_id, client, device, count(*) AS n
              FROM (SELECT DISTINCT ON (delivery_id) campaign_id, client, device, kind FROM email_events
                    WHERE kind IN ('open', 'click') AND NOT machine AND campaign_id IS NOT NULL
                    ORDER BY delivery_id, at, id) first
              WHERE kind = 'open' GROUP BY 1, 2, 3) s
        WHERE t.campaign_id = s.campaign_id AND t.client = s.client AND t.device = s.device
    """)


def downgrade() -> None:
    op.drop_column("analytics_campaign_domains", "human_clicked")
    op.drop_column("analytics_campaign_clients", "human_unique_opens")
