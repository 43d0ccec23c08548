"""send engine under faults: deliveries skipped at claim time (the contact can no longer be mailed),
counted on the campaign; how often a campaign paused for unreachable servers resumed by itself; and
notifications to the workers the moment a campaign's status or the SMTP servers change

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

STATUSES = "'pending', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed', 'failed', 'cancelled'"

# Workers LISTEN on these channels (webapp/delivery/watch.py). NOTIFY is delivered when the
# changing transaction commits, whatever changed it: a page, the API, a worker or SQL by hand.
TRIGGERS = """
CREATE FUNCTION mailroom_campaign_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mailroom_campaign_status', NEW.id::text || ' ' || NEW.status);
  RETURN NULL;
END $$;
CREATE TRIGGER campaigns_status_notify AFTER UPDATE OF status ON campaigns FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION mailroom_campaign_status_changed();

CREATE FUNCTION mailroom_smtp_servers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mailroom_smtp_servers', '');
  RETURN NULL;
END $$;
-- Not on last_error: the workers write it themselves.
CREATE TRIGGER smtp_servers_notify AFTER INSERT OR DELETE OR UPDATE OF
  name, host, port, tls_mode, username, password_encrypted, rate_per_second, rate_per_hour, rate_per_day,
  max_connections, priority, is_active
  ON smtp_servers FOR EACH STATEMENT EXECUTE FUNCTION mailroom_smtp_servers_changed();
"""


def upgrade() -> None:
    op.drop_constraint(op.f('ck_deliveries_status'), 'deliveries', type_='check')
    op.create_check_constraint(op.f('ck_deliveries_status'), 'deliveries', f"status IN ({STATUSES}, 'skipped')")
    op.add_column('campaigns', sa.Column('skipped_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('campaigns', sa.Column('auto_resumes', sa.Integer(), server_default='0', nullable=False))
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER smtp_servers_notify ON smtp_servers; DROP FUNCTION mailroom_smtp_servers_changed();")
    op.execute("DROP TRIGGER campaigns_status_notify ON campaigns; DROP FUNCTION mailroom_campaign_status_changed();")
    op.drop_column('campaigns', 'auto_resumes')
    op.drop_column('campaigns', 'skipped_count')
    op.execute("UPDATE deliveries SET status = 'failed' WHERE status = 'skipped'")
    op.drop_constraint(op.f('ck_deliveries_status'), 'deliveries', type_='check')
    op.create_check_constraint(op.f('ck_deliveries_status'), 'deliveries', f"status IN ({STATUSES})")
