"""The campaigns of a list found by index: a list's delete page names them, and deleting the list
cascades to their rows.

Revision ID: 0041
Revises: 0040
"""

from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_campaign_lists_list_id", "campaign_lists", ["list_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_lists_list_id", table_name="campaign_lists")
