"""import jobs: one row per uploaded contact file (mapping, mode, progress counters) and the rows
it could not import, for the report

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
        sa.Column('mode', sa.String(length=20), server_default='add', nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('stored_name', sa.String(length=100), nullable=False),
        sa.Column('file_format', sa.String(length=10), nullable=False),
        sa.Column('file_size', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('encoding', sa.String(length=20), server_default='', nullable=False),
        sa.Column('delimiter', sa.String(length=1), server_default='', nullable=False),
        sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.Column('mapping', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.Column('list_id', sa.BigInteger(), nullable=True),
        sa.Column('suppress_reason', sa.String(length=20), server_default='', nullable=False),
        sa.Column('total', sa.Integer(), server_default='0', nullable=False),
        sa.Column('processed', sa.Integer(), server_default='0', nullable=False),
        sa.Column('inserted', sa.Integer(), server_default='0', nullable=False),
        sa.Column('updated', sa.Integer(), server_default='0', nullable=False),
        sa.Column('skipped', sa.Integer(), server_default='0', nullable=False),
        sa.Column('duplicates', sa.Integer(), server_default='0', nullable=False),
        sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
        sa.Column('chunk_rows', sa.Integer(), server_default='0', nullable=False),
        sa.Column('loaded_chunks', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
        sa.Column('error', sa.Text(), server_default='', nullable=False),
        sa.Column('created_by', sa.String(length=320), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'queued', 'running', 'done', 'failed')", name=op.f('ck_import_jobs_status')),
        sa.CheckConstraint("mode IN ('add', 'upsert', 'list', 'unsubscribe', 'suppress')", name=op.f('ck_import_jobs_mode')),
        sa.ForeignKeyConstraint(['list_id'], ['email_lists.id'], name=op.f('fk_import_jobs_list_id_email_lists'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
    )
    op.create_index('ix_import_jobs_created_at_id', 'import_jobs', ['created_at', 'id'])
    op.create_table(
        'import_rejects',
        sa.Column('job_id', sa.BigInteger(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('email', sa.Text(), server_default='', nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('cells', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.CheckConstraint("kind IN ('rejected', 'duplicate')", name=op.f('ck_import_rejects_kind')),
        sa.ForeignKeyConstraint(['job_id'], ['import_jobs.id'], name=op.f('fk_import_rejects_job_id_import_jobs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('job_id', 'line', name=op.f('pk_import_rejects')),
    )


def downgrade() -> None:
    op.drop_table('import_rejects')
    op.drop_index('ix_import_jobs_created_at_id', table_name='import_jobs')
    op.drop_table('import_jobs')
