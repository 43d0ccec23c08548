"""automations: automations with their trigger and re-entry rule, versions of their flow, the
contacts enrolled (also the due-steps table, partial index on due_at) and the steps run once each

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "automations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("trigger", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reentry", sa.String(length=20), server_default="once", nullable=False),
        sa.Column("reentry_days", sa.Integer(), server_default="30", nullable=False),
        sa.Column("current_version_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'active', 'paused', 'archived')", name=op.f("ck_automations_status")),
        sa.CheckConstraint("reentry IN ('once', 'always', 'every_n_days')", name=op.f("ck_automations_reentry")),
        sa.CheckConstraint("reentry_days >= 1", name=op.f("ck_automations_reentry_days")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automations")),
    )
    op.create_index("ix_automations_created_at_id", "automations", ["created_at", "id"])
    op.create_table(
        "automation_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("automation_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automations.id"],
            name=op.f("fk_automation_versions_automation_id_automations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_versions")),
        sa.UniqueConstraint("automation_id", "number", name="uq_automation_versions_automation_number"),
    )
    op.create_index(
        "ux_automation_versions_draft",
        "automation_versions",
        ["automation_id"],
        unique=True,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_foreign_key(
        op.f("fk_automations_current_version_id_automation_versions"),
        "automations",
        "automation_versions",
        ["current_version_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "automation_enrolments",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("automation_id", sa.BigInteger(), nullable=False),
        sa.Column("version_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("run", sa.Integer(), server_default="1", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_reason", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'exited', 'removed')", name=op.f("ck_automation_enrolments_status")
        ),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automations.id"],
            name=op.f("fk_automation_enrolments_automation_id_automations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_automation_enrolments_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["automation_versions.id"],
            name=op.f("fk_automation_enrolments_version_id_automation_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_enrolments")),
        sa.UniqueConstraint(
            "automation_id", "contact_id", "run", name="uq_automation_enrolments_automation_contact_run"
        ),
    )
    op.create_index(
        "ux_automation_enrolments_active",
        "automation_enrolments",
        ["automation_id", "contact_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_automation_enrolments_due",
        "automation_enrolments",
        ["due_at", "id"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_automation_enrolments_automation_status_id",
        "automation_enrolments",
        ["automation_id", "status", "id"],
    )
    op.create_index("ix_automation_enrolments_contact_id", "automation_enrolments", ["contact_id"])
    op.create_table(
        "automation_step_runs",
        sa.Column("enrolment_id", sa.BigInteger(), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('done', 'skipped', 'branched_yes', 'branched_no', 'goal')",
            name=op.f("ck_automation_step_runs_outcome"),
        ),
        sa.PrimaryKeyConstraint("enrolment_id", "step_id", name=op.f("pk_automation_step_runs")),
    )
    # Instead of a foreign key (checked per inserted run, the engine's hottest statement): the runs
    # of deleted enrolments (a contact erased, an automation deleted) are deleted set-based.
    op.execute("""
        CREATE FUNCTION automation_enrolments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM automation_step_runs r USING deleted d WHERE r.enrolment_id = d.id;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER automation_enrolments_deleted AFTER DELETE ON automation_enrolments
        REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION automation_enrolments_deleted()
    """)


def downgrade() -> None:
    op.drop_table("automation_step_runs")
    op.execute("DROP TRIGGER automation_enrolments_deleted ON automation_enrolments")
    op.execute("DROP FUNCTION automation_enrolments_deleted()")
    op.drop_table("automation_enrolments")
    op.drop_constraint(op.f("fk_automations_current_version_id_automation_versions"), "automations", type_="foreignkey")
    op.drop_table("automation_versions")
    op.drop_table("automations")
