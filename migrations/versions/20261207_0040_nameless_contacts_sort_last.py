"""Name A–Z and Company A–Z put contacts without a name (company) after the rest, and a contact with
only a first name among the last names: their indexes get the same columns as the sorts.

Revision ID: 0040
Revises: 0039
"""

from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_contacts_name_id", table_name="contacts")
    op.drop_index("ix_contacts_company_id", table_name="contacts")
    op.execute(
        "CREATE INDEX ix_contacts_name_id ON contacts ((first_name = '' AND last_name = ''),"
        " lower(COALESCE(NULLIF(last_name, ''), first_name)), lower(first_name), id)"
    )
    op.execute("CREATE INDEX ix_contacts_company_id ON contacts ((company = ''), lower(company), id)")


def downgrade() -> None:
    op.drop_index("ix_contacts_name_id", table_name="contacts")
    op.drop_index("ix_contacts_company_id", table_name="contacts")
    op.execute("CREATE INDEX ix_contacts_name_id ON contacts (lower(last_name), lower(first_name), id)")
    op.execute("CREATE INDEX ix_contacts_company_id ON contacts (lower(company), id)")
