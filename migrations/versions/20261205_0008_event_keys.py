"""email_events: the key of the tracking hit each row came from (unique, so an event applied twice
by the event worker is stored and counted once), and the user agent that made it

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('email_events', sa.Column('event_key', postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column('email_events', sa.Column('user_agent', sa.Text(), server_default='', nullable=False))
    op.create_index('ux_email_events_event_key', 'email_events', ['event_key'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_email_events_event_key', table_name='email_events')
    op.drop_column('email_events', 'user_agent')
    op.drop_column('email_events', 'event_key')
