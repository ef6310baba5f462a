"""Schema versions of the message log, kept and upgraded by Alembic on SQLite and PostgreSQL alike.

The revisions live in ``bus/audit/migrations/versions`` (``0001`` is the layout written before versions
were kept). A new log is created at the newest layout (``store.SCHEMA``) and stamped with
``store.SCHEMA_VERSION``, which must be Alembic's head (a test checks it). ``migrate_log`` upgrades an
existing log to the head; a log without a version table is an ``0001`` log (its baseline statements are
all ``IF NOT EXISTS``). A PostgreSQL log's version table sits in its own schema.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bus.audit.connection import PostgresLocation

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision of the message log's schema."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _engine(where: Path | PostgresLocation) -> sqlalchemy.Engine:
    if isinstance(where, PostgresLocation):
        url = sqlalchemy.engine.make_url(where.url).set(drivername="postgresql+psycopg")
        return sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    return sqlalchemy.create_engine(f"sqlite:///{Path(where)}", poolclass=sqlalchemy.NullPool)


def _run(where: Path | PostgresLocation, upgrade: bool) -> tuple[str | None, str | None]:
    engine = _engine(where)
    schema = where.schema if isinstance(where, PostgresLocation) else None
    try:
        with engine.begin() as connection:
            if schema is not None:
                connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            before = MigrationContext.configure(
                connection, opts={"version_table_schema": schema}
            ).get_current_revision()
            if upgrade:
                config = _config()
                config.attributes["connection"] = connection
                config.attributes["version_table_schema"] = schema
                command.upgrade(config, "head")
            after = MigrationContext.configure(
                connection, opts={"version_table_schema": schema}
            ).get_current_revision()
    finally:
        engine.dispose()
    return before, after


def log_revision(where: Path | PostgresLocation) -> str | None:
    """The revision a log is at (None: written before versions were kept, or not there)."""
    return _run(where, upgrade=False)[0]


def migrate_log(where: Path | PostgresLocation) -> tuple[str | None, str]:
    """Upgrade the log at ``where`` to the head revision; return (revision before, revision after)."""
    before, after = _run(where, upgrade=True)
    assert after is not None
    return before, after


__all__ = ["head_revision", "log_revision", "migrate_log"]
