"""Tracked links stored as their URL, not their HTML: `?x=1&amp;y=2` in an href is `?x=1&y=2`, and
clicks on mail already sent redirected to the undecoded text (a parameter named `amp;y`). Links a
campaign also stored decoded keep their row (mail already sent refers to it).

Revision ID: 0044
Revises: 0043
"""

import re
from html import unescape

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

PLAIN_URL = r"""https?://[^"'{}<>\s]+"""  # as webapp/delivery/campaign_message.py tracks


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, url FROM links WHERE url ~ '&[#A-Za-z0-9]+;'")).all()
    statement = sa.text(
        """UPDATE links SET url = :url WHERE id = :id
           AND NOT EXISTS (SELECT FROM links o WHERE o.campaign_id = links.campaign_id AND o.url = :url)"""
    )
    for link_id, url in rows:
        decoded = unescape(url).replace("\t", "").replace("\n", "").replace("\r", "")
        if decoded != url and re.fullmatch(PLAIN_URL, decoded, re.IGNORECASE):
            connection.execute(statement, {"id": link_id, "url": decoded})


def downgrade() -> None:
    pass  # the decoded URL is the right one either way
