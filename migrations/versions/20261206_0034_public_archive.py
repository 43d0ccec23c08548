"""campaigns.settings: the archive setting (off) in the column's default, and the index the public
archive reads its campaigns from, newest first.

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

BEFORE = (
    '{"track_opens": true, "track_clicks": true, "unsubscribe_link": true, "suppress_duplicates": true, '
    '"web_version_link": false}'
)
AFTER = (
    '{"track_opens": true, "track_clicks": true, "unsubscribe_link": true, "suppress_duplicates": true, '
    '"web_version_link": false, "archive": false}'
)
IN_ARCHIVE = """status = 'sent' AND kind = 'marketing' AND settings @> '{"archive": true}'"""


def upgrade() -> None:
    op.alter_column("campaigns", "settings", server_default=sa.text(f"'{AFTER}'"))
    op.create_index(
        "ix_campaigns_archive", "campaigns", ["completed_at", "id"], postgresql_where=sa.text(IN_ARCHIVE)
    )


def downgrade() -> None:
    op.drop_index("ix_campaigns_archive", table_name="campaigns")
    op.alter_column("campaigns", "settings", server_default=sa.text(f"'{BEFORE}'"))
