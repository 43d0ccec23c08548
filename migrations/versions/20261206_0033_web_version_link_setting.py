"""campaigns.settings: the web_version_link setting (off) in the column's default, as the model has it.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

BEFORE = '{"track_opens": true, "track_clicks": true, "unsubscribe_link": true, "suppress_duplicates": true}'
AFTER = (
    '{"track_opens": true, "track_clicks": true, "unsubscribe_link": true, "suppress_duplicates": true, '
    '"web_version_link": false}'
)


def upgrade() -> None:
    op.alter_column("campaigns", "settings", server_default=sa.text(f"'{AFTER}'"))


def downgrade() -> None:
    op.alter_column("campaigns", "settings", server_default=sa.text(f"'{BEFORE}'"))
