"""The status and active indexes of contacts hold only the contacts they help find: those not
active (unsubscribed, bounced, complained, pending) and those switched off. Pages filtered to the
common values walk the date index instead, where nearly every row matches. A new contact (all of an
import's) then enters two indexes fewer: about a tenth of its insert's database time.

Revision ID: 0028
Revises: 0027
"""

from alembic import op
from sqlalchemy import text

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_contacts_status_date_added_id": (["status", "date_added", "id"], "status <> 'active'"),
    "ix_contacts_active_date_added_id": (["is_active", "date_added", "id"], "is_active IS false"),
}


def upgrade() -> None:
    for name, (columns, where) in INDEXES.items():
        op.drop_index(name, table_name="contacts")
        op.create_index(name, "contacts", columns, postgresql_where=text(where))


def downgrade() -> None:
    for name, (columns, _) in INDEXES.items():
        op.drop_index(name, table_name="contacts")
        op.create_index(name, "contacts", columns)
