"""automation_trigger_checks.problem: why the last check of a scheduled trigger enrolled nobody
(its segment took longer than the time limit to check), shown on the automation's page.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("automation_trigger_checks", sa.Column("problem", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("automation_trigger_checks", "problem")
