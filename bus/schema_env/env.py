"""Alembic's environment for every versioned store: runs on the connection ``bus.schema_versions`` hands it.

The connection is already on the right database (a SQLite file, or PostgreSQL with ``search_path`` set
to the store's schema); the version table lives beside the store's tables.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table_schema=config.attributes.get("version_table_schema"),
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
