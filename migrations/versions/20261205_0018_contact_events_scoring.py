"""contact_events (custom events posted to the API, idempotent by the sender's key) and lead
scoring: rules, one score row per contact (indexed for segments and the leaderboard), its history

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

STAGES = "'subscriber', 'lead', 'mql', 'sql', 'customer', 'evangelist'"
GRADES = "'A+', 'A', 'B+', 'B', 'C', 'D', 'F'"
EVENTS = "'open', 'click', 'form', 'confirmed', 'custom'"


def _contact(table: str) -> sa.Column:
    return sa.Column(
        "contact_id",
        sa.BigInteger(),
        sa.ForeignKey("contacts.id", ondelete="CASCADE", name=f"fk_{table}_contact_id_contacts"),
        nullable=False,
    )


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "contact_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        _contact("contact_events"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("properties", JSONB(), server_default="{}", nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_key", sa.String(200)),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_events"),
    )
    op.create_index("ix_contact_events_contact_id_occurred_at", "contact_events", ["contact_id", "occurred_at"])
    op.create_index(
        "ux_contact_events_client_key",
        "contact_events",
        ["client_key"],
        unique=True,
        postgresql_where=sa.text("client_key IS NOT NULL"),
    )
    op.create_table(
        "scoring_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("event_name", sa.String(100)),
        sa.Column("link_url", sa.String(2000)),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("daily_limit", sa.Integer()),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_scoring_rules"),
        sa.CheckConstraint(f"event IN ({EVENTS})", name="ck_scoring_rules_event"),
        sa.CheckConstraint("points <> 0", name="ck_scoring_rules_points_not_zero"),
        sa.CheckConstraint("daily_limit IS NULL OR daily_limit > 0", name="ck_scoring_rules_daily_limit_positive"),
    )
    op.create_table(
        "contact_scores",
        _contact("contact_scores"),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(2), nullable=False),
        sa.Column("reached_stage", sa.String(12), nullable=False),
        sa.Column("stage_override", sa.String(12)),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("engagement", sa.Integer(), server_default="0", nullable=False),
        sa.Column("adjustments", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completeness", sa.Integer(), server_default="0", nullable=False),
        sa.Column("recency", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True)),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_contact_scores"),
        sa.CheckConstraint(f"grade IN ({GRADES})", name="ck_contact_scores_grade"),
        sa.CheckConstraint(f"stage IN ({STAGES})", name="ck_contact_scores_stage"),
        sa.CheckConstraint(f"reached_stage IN ({STAGES})", name="ck_contact_scores_reached_stage"),
        sa.CheckConstraint(
            f"stage_override IS NULL OR stage_override IN ({STAGES})", name="ck_contact_scores_stage_override"
        ),
    )
    op.create_index("ix_contact_scores_score_contact_id", "contact_scores", ["score", "contact_id"])
    op.create_index("ix_contact_scores_grade", "contact_scores", ["grade"])
    op.create_index("ix_contact_scores_stage", "contact_scores", ["stage"])
    op.create_table(
        "score_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        _contact("score_history"),
        _now("at"),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(2), nullable=False),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_score_history"),
    )
    op.create_index("ix_score_history_contact_id_id", "score_history", ["contact_id", "id"])


def downgrade() -> None:
    op.drop_table("score_history")
    op.drop_table("contact_scores")
    op.drop_table("scoring_rules")
    op.drop_table("contact_events")
