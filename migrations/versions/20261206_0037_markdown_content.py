"""Emails written in Markdown: templates and campaigns say which format their content is written in,
and keep the Markdown their HTML is made from.

Revision ID: 0037
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

TABLES = ("email_templates", "campaigns")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("content_format", sa.String(10), server_default="html", nullable=False))
        op.add_column(table, sa.Column("markdown_content", sa.Text(), server_default="", nullable=False))
        op.create_check_constraint(op.f(f"ck_{table}_content_format"), table, "content_format IN ('html', 'markdown')")


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(op.f(f"ck_{table}_content_format"), table, type_="check")
        op.drop_column(table, "markdown_content")
        op.drop_column(table, "content_format")
