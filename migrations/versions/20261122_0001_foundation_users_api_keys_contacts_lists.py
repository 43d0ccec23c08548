"""foundation: users, api keys, contacts, lists

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# email_lists.contact_count follows list_members through statement-level triggers with transition
# tables: one UPDATE per statement however many rows it touched, and right for cascaded deletes.
CONTACT_COUNT_TRIGGERS = """
CREATE FUNCTION list_members_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE email_lists l SET contact_count = l.contact_count + n.cnt
  FROM (SELECT list_id, count(*) AS cnt FROM new_rows GROUP BY list_id) n WHERE l.id = n.list_id;
  RETURN NULL;
END $$;
CREATE FUNCTION list_members_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE email_lists l SET contact_count = l.contact_count - o.cnt
  FROM (SELECT list_id, count(*) AS cnt FROM old_rows GROUP BY list_id) o WHERE l.id = o.list_id;
  RETURN NULL;
END $$;
CREATE TRIGGER list_members_count_insert AFTER INSERT ON list_members
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_members_count_insert();
CREATE TRIGGER list_members_count_delete AFTER DELETE ON list_members
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_members_count_delete();
"""


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('first_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('last_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('phone', sa.String(length=50), server_default='', nullable=False),
    sa.Column('company', sa.String(length=200), server_default='', nullable=False),
    sa.Column('job_title', sa.String(length=200), server_default='', nullable=False),
    sa.Column('location', sa.String(length=200), server_default='', nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('custom_fields', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
    sa.Column('date_added', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_updated', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple'::regconfig, email || ' ' || translate(email, '@.+_-', '     ') || ' ' || first_name || ' ' || last_name || ' ' || company)", persisted=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'unsubscribed', 'bounced', 'complained')", name=op.f('ck_contacts_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    op.create_index('ix_contacts_active_date_added_id', 'contacts', ['is_active', 'date_added', 'id'], unique=False)
    op.create_index('ix_contacts_company_id', 'contacts', [sa.literal_column('lower(company)'), 'id'], unique=False)
    op.create_index('ix_contacts_date_added_id', 'contacts', ['date_added', 'id'], unique=False)
    op.create_index('ix_contacts_last_updated_id', 'contacts', ['last_updated', 'id'], unique=False)
    op.create_index('ix_contacts_name_id', 'contacts', [sa.literal_column('lower(last_name)'), sa.literal_column('lower(first_name)'), 'id'], unique=False)
    op.create_index('ix_contacts_search', 'contacts', ['search'], unique=False, postgresql_using='gin')
    op.create_index('ix_contacts_status_date_added_id', 'contacts', ['status', 'date_added', 'id'], unique=False)
    op.create_index('ix_contacts_tags', 'contacts', ['tags'], unique=False, postgresql_using='gin')
    op.create_index('uq_contacts_email_lower', 'contacts', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('email_lists',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('list_type', sa.String(length=20), server_default='static', nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_by', sa.String(length=320), server_default='', nullable=False),
    sa.Column('contact_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("list_type IN ('static', 'dynamic', 'segmented')", name=op.f('ck_email_lists_list_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_lists'))
    )
    op.create_index('uq_email_lists_name_lower', 'email_lists', [sa.literal_column('lower(name)')], unique=True)
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('viewer', 'editor', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('viewer', 'editor', 'admin')", name=op.f('ck_api_keys_role')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_keys_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_table('list_members',
    sa.Column('list_id', sa.BigInteger(), nullable=False),
    sa.Column('contact_id', sa.BigInteger(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_list_members_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['email_lists.id'], name=op.f('fk_list_members_list_id_email_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'contact_id', name=op.f('pk_list_members'))
    )
    op.create_index('ix_list_members_contact_id', 'list_members', ['contact_id'], unique=False)
    op.execute(CONTACT_COUNT_TRIGGERS)


def downgrade() -> None:
    op.execute("DROP FUNCTION list_members_count_insert, list_members_count_delete CASCADE")
    op.drop_index('ix_list_members_contact_id', table_name='list_members')
    op.drop_table('list_members')
    op.drop_table('api_keys')
    op.drop_index('uq_users_email_lower', table_name='users')
    op.drop_table('users')
    op.drop_index('uq_email_lists_name_lower', table_name='email_lists')
    op.drop_table('email_lists')
    op.drop_index('uq_contacts_email_lower', table_name='contacts')
    op.drop_index('ix_contacts_tags', table_name='contacts', postgresql_using='gin')
    op.drop_index('ix_contacts_status_date_added_id', table_name='contacts')
    op.drop_index('ix_contacts_search', table_name='contacts', postgresql_using='gin')
    op.drop_index('ix_contacts_name_id', table_name='contacts')
    op.drop_index('ix_contacts_last_updated_id', table_name='contacts')
    op.drop_index('ix_contacts_date_added_id', table_name='contacts')
    op.drop_index('ix_contacts_company_id', table_name='contacts')
    op.drop_index('ix_contacts_active_date_added_id', table_name='contacts')
    op.drop_table('contacts')
