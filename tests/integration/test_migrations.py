"""The migrations build exactly the schema the models describe, so neither drifts from the other."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.core.models import is_modelled, load_all_models


async def test_models_match_migrated_schema(db) -> None:
    def diff(sync_connection):
        opts = {"compare_type": True, "include_name": is_modelled}
        context = MigrationContext.configure(sync_connection, opts=opts)
        return compare_metadata(context, load_all_models().metadata)

    connection = await db.connection()
    changes = await connection.run_sync(diff)
    assert changes == []
