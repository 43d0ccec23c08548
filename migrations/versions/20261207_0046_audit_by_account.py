"""The audit log is filtered by account (a staff member's id or an API key's), not by the name an
event was recorded under: a person who renames themselves keeps one history, and nobody can add a
choice to the filter by typing an address at sign-in. Indexed as the other filters are.

Revision ID: 0046
Revises: 0045
"""

from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_events_actor_occurred_at_id", table_name="audit_events")
    op.execute("""CREATE INDEX ix_audit_events_user_id_occurred_at_id ON audit_events (user_id, occurred_at, id)
                  WHERE user_id IS NOT NULL""")
    op.execute("""CREATE INDEX ix_audit_events_api_key_id_occurred_at_id ON audit_events (api_key_id, occurred_at, id)
                  WHERE api_key_id IS NOT NULL""")
    # A refused sign-in with an account's address now names the account: so do those kept.
    op.execute("""UPDATE audit_events e SET user_id = u.id FROM users u
                  WHERE e.user_id IS NULL AND e.action = 'sign-in refused' AND lower(e.actor) = lower(u.email)""")


def downgrade() -> None:
    op.drop_index("ix_audit_events_api_key_id_occurred_at_id", table_name="audit_events")
    op.drop_index("ix_audit_events_user_id_occurred_at_id", table_name="audit_events")
    op.create_index("ix_audit_events_actor_occurred_at_id", "audit_events", ["actor", "occurred_at", "id"])
