"""automation emails: a campaign per (automation version, email step) holds the email as sent, and
a delivery per (enrolment, email step) is each message, so it is rendered, tracked and attributed as
campaign mail is. deliveries: `handing` (being handed to the SMTP server) and `in_doubt` (its worker
stopped meanwhile: never sent again); a campaign reaches a contact once, an automation email once
per enrolment. Trigger bookkeeping: when scheduled triggers were last evaluated, who was in a
segment at the last look, and signals queued by imports for the tick.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BEFORE = (
    "'pending', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed', "
    "'failed', 'cancelled', 'skipped', 'held'"
)


def upgrade() -> None:
    op.add_column(
        "campaigns",
        sa.Column("automation_id", sa.BigInteger(), sa.ForeignKey("automations.id", ondelete="CASCADE")),
    )
    op.add_column(
        "campaigns",
        sa.Column(
            "automation_version_id", sa.BigInteger(), sa.ForeignKey("automation_versions.id", ondelete="CASCADE")
        ),
    )
    op.add_column("campaigns", sa.Column("automation_step_id", sa.String(40)))
    op.create_unique_constraint(
        "uq_campaigns_automation_version_step", "campaigns", ["automation_version_id", "automation_step_id"]
    )
    op.create_index(
        "ix_campaigns_automation_id", "campaigns", ["automation_id"], postgresql_where=sa.text("automation_id IS NOT NULL")
    )

    op.add_column(
        "deliveries",
        sa.Column("enrolment_id", sa.BigInteger(), sa.ForeignKey("automation_enrolments.id", ondelete="CASCADE")),
    )
    op.create_index(
        "ux_deliveries_campaign_contact",
        "deliveries",
        ["campaign_id", "contact_id"],
        unique=True,
        postgresql_where=sa.text("enrolment_id IS NULL"),
    )
    op.drop_constraint("uq_deliveries_campaign_contact", "deliveries", type_="unique")
    op.create_index(
        "ux_deliveries_enrolment_campaign",
        "deliveries",
        ["enrolment_id", "campaign_id"],
        unique=True,
        postgresql_where=sa.text("enrolment_id IS NOT NULL"),
    )
    op.create_index(
        "ix_deliveries_automation_unfinished",
        "deliveries",
        ["id"],
        postgresql_where=sa.text("enrolment_id IS NOT NULL AND status IN ('pending', 'sending', 'handing')"),
    )
    op.drop_constraint(op.f("ck_deliveries_status"), "deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_deliveries_status"), "deliveries", f"status IN ({BEFORE}, 'handing', 'in_doubt')"
    )

    op.create_table(
        "automation_trigger_checks",
        sa.Column("automation_id", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automations.id"],
            name=op.f("fk_automation_trigger_checks_automation_id_automations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("automation_id", name=op.f("pk_automation_trigger_checks")),
    )
    op.create_table(
        "automation_segment_members",
        sa.Column("automation_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automations.id"],
            name=op.f("fk_automation_segment_members_automation_id_automations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_automation_segment_members_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("automation_id", "contact_id", name=op.f("pk_automation_segment_members")),
    )
    op.create_table(
        "automation_signals",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("contact_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_signals")),
    )


def downgrade() -> None:
    op.drop_table("automation_signals")
    op.drop_table("automation_segment_members")
    op.drop_table("automation_trigger_checks")
    op.execute("DELETE FROM campaigns WHERE automation_id IS NOT NULL")  # their deliveries go with them
    op.drop_constraint(op.f("ck_deliveries_status"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_status"), "deliveries", f"status IN ({BEFORE})")
    op.drop_index("ix_deliveries_automation_unfinished", table_name="deliveries")
    op.drop_index("ux_deliveries_enrolment_campaign", table_name="deliveries")
    op.create_unique_constraint("uq_deliveries_campaign_contact", "deliveries", ["campaign_id", "contact_id"])
    op.drop_index("ux_deliveries_campaign_contact", table_name="deliveries")
    op.drop_column("deliveries", "enrolment_id")
    op.drop_index("ix_campaigns_automation_id", table_name="campaigns")
    op.drop_constraint("uq_campaigns_automation_version_step", "campaigns", type_="unique")
    op.drop_column("campaigns", "automation_step_id")
    op.drop_column("campaigns", "automation_version_id")
    op.drop_column("campaigns", "automation_id")
