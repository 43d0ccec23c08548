"""contact_sends: each contact's count of messages sent, moved off the contacts row. The send
pipeline adds to it for every recipient of every batch; on the wide contacts row (ten indexes)
each addition was a new row version in every index, so each campaign rewrote its recipients' rows.

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_sends",
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("emails_sent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_sends_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_sends")),
    )
    op.execute("INSERT INTO contact_sends (contact_id, emails_sent) SELECT id, emails_sent FROM contacts WHERE emails_sent > 0")
    op.drop_column("contacts", "emails_sent")


def downgrade() -> None:
    op.add_column("contacts", sa.Column("emails_sent", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE contacts c SET emails_sent = s.emails_sent FROM contact_sends s WHERE s.contact_id = c.id")
    op.drop_table("contact_sends")
