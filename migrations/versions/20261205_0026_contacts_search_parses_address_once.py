"""The contacts' search vector parses each address once (split at `@.+_-`), not also as typed: no
search word can find a lexeme that only the address as typed gave, and parsing it twice cost a
tenth of an import's database time. A generated column's expression cannot change in place, so
the column and its index are made again (this rewrites the contacts table: minutes for millions of
contacts, during which the table is locked).

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

PARSED_ONCE = (
    "to_tsvector('simple'::regconfig, "
    "translate(email, '@.+_-', '     ') || ' ' || first_name || ' ' || last_name || ' ' || company)"
)
PARSED_TWICE = (
    "to_tsvector('simple'::regconfig, "
    "email || ' ' || translate(email, '@.+_-', '     ') || ' ' || first_name || ' ' || last_name || ' ' || company)"
)


def _search_column(expression: str) -> None:
    op.drop_index("ix_contacts_search", table_name="contacts", postgresql_using="gin")
    op.drop_column("contacts", "search")
    op.add_column(
        "contacts",
        sa.Column("search", postgresql.TSVECTOR(), sa.Computed(expression, persisted=True), nullable=False),
    )
    op.create_index(
        "ix_contacts_search",
        "contacts",
        ["search"],
        postgresql_using="gin",
        postgresql_with={"gin_pending_list_limit": 16384},
    )


def upgrade() -> None:
    _search_column(PARSED_ONCE)


def downgrade() -> None:
    _search_column(PARSED_TWICE)
