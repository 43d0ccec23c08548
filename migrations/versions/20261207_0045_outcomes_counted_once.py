"""A message's delivery, bounce, complaint and unsubscribe counted once in the rollups, however many
reports of it arrive (a provider reporting one bounce twice under two ids, two providers): the
rollups are built again from the stored events with the app's current SQL, as 0012 built them.

Revision ID: 0045
Revises: 0044
"""

import sqlalchemy as sa
from alembic import op

from webapp.analytics.queries import rollups

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text(f"TRUNCATE {', '.join(rollups.ROLLUP_TABLES)}"))
    bind.execute(rollups.REBUILD_EVENTS)
    bind.execute(rollups.REBUILD_SENDS)
    if (since := bind.scalar(rollups.FIRST_AUDIENCE_DAY)) is not None:
        bind.execute(rollups.AUDIENCE, {"since": since})


def downgrade() -> None:
    """The rollups as built stay: counting an outcome once is right under either revision."""
