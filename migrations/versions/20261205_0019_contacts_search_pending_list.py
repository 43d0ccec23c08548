"""A larger pending list for the contacts' search index: every change to a contact that is not a
HOT update (a tag, a status) adds the row's search lexemes to this GIN index again, and with the
default 4 MB list each batch of a few thousand contacts stopped to merge the list into the index.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER INDEX ix_contacts_search SET (gin_pending_list_limit = 16384)")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_contacts_search RESET (gin_pending_list_limit)")
