"""Alembic environment: runs migrations synchronously with psycopg against DATABASE_URL."""

from alembic import context
from sqlalchemy import create_engine, pool

from webapp.core.config import get_settings
from webapp.core.models import is_modelled, load_all_models

target_metadata = load_all_models().metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database.url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, compare_type=True, include_name=is_modelled
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
