"""A click is an open: contacts whose last click is later than their last open (or who have no open,
their images blocked) get it as their last open, as the event worker now records it.

Revision ID: 0039
Revises: 0038
"""

from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE contacts SET last_opened = last_clicked "
        "WHERE last_clicked IS NOT NULL AND (last_opened IS NULL OR last_opened < last_clicked)"
    )


def downgrade() -> None:
    """Nothing to undo: the earlier open times were not kept, and the later ones are true."""
