"""API providers (Amazon SES, SendGrid, Postmark, Mailgun) beside the SMTP servers: which one took
each delivery, and each campaign's kind of mail (marketing, automation, transactional) so routing
can tell them apart. Workers rebuild their mailer when providers change, as for SMTP servers.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# The workers' channel for "the transports changed" (webapp/delivery/watch.py); not on last_error:
# the workers write it themselves.
TRIGGER = """
CREATE TRIGGER providers_notify AFTER INSERT OR DELETE OR UPDATE OF
  name, kind, settings, credentials_encrypted, batch_size, rate_per_second, rate_per_hour, rate_per_day,
  max_connections, priority, is_active
  ON providers FOR EACH STATEMENT EXECUTE FUNCTION mailroom_smtp_servers_changed();
"""


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("credentials_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("batch_size", sa.Integer(), server_default="50", nullable=False),
        sa.Column("rate_per_second", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rate_per_hour", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rate_per_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_connections", sa.Integer(), server_default="4", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('ses', 'sendgrid', 'postmark', 'mailgun')", name=op.f("ck_providers_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
    )
    op.execute(TRIGGER)
    op.add_column("deliveries", sa.Column("provider_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_deliveries_provider_id_providers"), "deliveries", "providers", ["provider_id"], ["id"], ondelete="SET NULL"
    )
    op.add_column("campaigns", sa.Column("kind", sa.String(length=20), server_default="marketing", nullable=False))
    op.execute("UPDATE campaigns SET kind = 'automation' WHERE automation_id IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_campaigns_kind"), "campaigns", "kind IN ('marketing', 'automation', 'transactional')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_campaigns_kind"), "campaigns", type_="check")
    op.drop_column("campaigns", "kind")
    op.drop_constraint(op.f("fk_deliveries_provider_id_providers"), "deliveries", type_="foreignkey")
    op.drop_column("deliveries", "provider_id")
    op.execute("DROP TRIGGER providers_notify ON providers")
    op.drop_table("providers")
