"""Schema versions of every govbus store, kept and upgraded by Alembic on SQLite and PostgreSQL alike.

A store's history is a directory of Alembic revision files (``SchemaHistory.versions``): ``0001`` is the
layout the store had before versions were kept, written so that it adopts such a database as it is
(every statement ``IF NOT EXISTS``, or skipped when the table is there); later revisions add to it. All
histories share one Alembic environment (``bus/schema_env``). A store's version table (``alembic_version``)
sits beside its tables: in its SQLite file, or in its own PostgreSQL schema.

Two ways in:
- ``SchemaHistory.migrate`` / ``revision``: Alembic itself, for ``govbus storage migrate|status``;
- ``stored_revision`` / ``stamp`` / ``has_tables``: plain SQL on a store's open transaction, for the cheap
  check a store makes when it is opened (a new store is created at its newest layout and stamped; a store
  at another revision is refused with ``SchemaVersionError``, which tells the operator what to run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bus.sql import postgres_ddl, split_statements

if TYPE_CHECKING:  # Alembic and SQLAlchemy load only when a migration runs, not when a store opens
    import sqlalchemy
    from alembic.config import Config

ENVIRONMENT = Path(__file__).with_name("schema_env")
VERSION_TABLE = "alembic_version"
VERSION_TABLE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
)


class PostgresWhere(Protocol):
    """A store in PostgreSQL: the database URL and the store's schema (``bus.audit.PostgresLocation``)."""

    @property
    def url(self) -> str: ...

    @property
    def schema(self) -> str: ...


class SchemaVersionError(ValueError):
    """A store is at a schema revision this govbus does not run on (older, unversioned, or newer).

    A ``ValueError``, so the command line reports it as one readable line, never a traceback.
    """


@dataclass(frozen=True, slots=True)
class SchemaHistory:
    """The revisions of one kind of store: ``name`` for people, ``versions`` the revision files."""

    name: str
    versions: Path

    def _config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(ENVIRONMENT))
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", str(self.versions))
        return config

    def head(self) -> str:
        """The newest revision of this store's schema."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._config()).get_current_head()
        assert head is not None, f"{self.versions} holds no revision"
        return head

    def revision(self, where: Path | PostgresWhere) -> str | None:
        """The revision the store at ``where`` is at (None: written before versions were kept, or new)."""
        return self._run(where, upgrade=False)[0]

    def migrate(self, where: Path | PostgresWhere) -> tuple[str | None, str]:
        """Upgrade the store at ``where`` to the head, in one transaction; (revision before, after)."""
        before, after = self._run(where, upgrade=True)
        assert after is not None
        return before, after

    def _run(self, where: Path | PostgresWhere, upgrade: bool) -> tuple[str | None, str | None]:
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        if isinstance(where, str):
            where = Path(where)
        engine = _engine(where)
        schema = None if isinstance(where, Path) else where.schema
        try:
            with engine.begin() as connection:
                if schema is not None:
                    connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                    connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
                opts = {"version_table_schema": schema}
                before = MigrationContext.configure(connection, opts=opts).get_current_revision()
                if upgrade:
                    config = self._config()
                    config.attributes["connection"] = connection
                    config.attributes["version_table_schema"] = schema
                    command.upgrade(config, "head")
                after = MigrationContext.configure(connection, opts=opts).get_current_revision()
        finally:
            engine.dispose()
        return before, after


def run_script(bind: sqlalchemy.Connection, script: str, postgres_script: str | None = None) -> None:
    """Run a revision's SQLite DDL ``script`` (on PostgreSQL: ``postgres_script``, else ``script`` rewritten
    by ``postgres_ddl``) one statement at a time, inside the migration's transaction."""
    if bind.dialect.name == "postgresql":
        script = postgres_script if postgres_script is not None else postgres_ddl(script)
    for statement in split_statements(script):
        bind.exec_driver_sql(statement)


def existing_tables(bind: sqlalchemy.Connection) -> set[str]:
    """The tables of the store a migration runs on (its SQLite file, or its PostgreSQL schema)."""
    if bind.dialect.name == "postgresql":
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {str(row[0]) for row in bind.exec_driver_sql(query).fetchall()}


def _engine(where: Path | PostgresWhere) -> sqlalchemy.Engine:
    import sqlalchemy

    if isinstance(where, Path):
        return sqlalchemy.create_engine(f"sqlite:///{where}", poolclass=sqlalchemy.NullPool)
    url = sqlalchemy.engine.make_url(where.url).set(drivername="postgresql+psycopg")
    return sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)


class _Conn(Protocol):
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...


def _table_names(conn: _Conn, dialect: str) -> set[str]:
    if dialect == "postgresql":
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return {str(row[0]) for row in conn.execute(query).fetchall()}


def has_tables(conn: _Conn, dialect: str) -> bool:
    """Whether the store's database (its SQLite file, or its schema) holds any table."""
    return bool(_table_names(conn, dialect))


def stored_revision(conn: _Conn, dialect: str) -> str | None:
    """The revision in the store's version table (None when it has none): plain SQL, no Alembic."""
    if VERSION_TABLE not in _table_names(conn, dialect):
        return None
    row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608 (a constant)
    return None if row is None else str(row[0])


def stamp(conn: _Conn, revision: str) -> None:
    """Record ``revision`` as the store's (a store just created at its newest layout)."""
    conn.execute(VERSION_TABLE_DDL)
    conn.execute(f"DELETE FROM {VERSION_TABLE}")  # noqa: S608 (a constant)
    conn.execute(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (?)", (revision,))  # noqa: S608 (a constant)


def refusal(name: str, where: object, current: str | None, needed: str) -> SchemaVersionError:
    """The error for a store at another revision than this govbus runs on, naming what to run."""
    at = f"schema revision {current}" if current else "no schema revision (written before versions were kept)"
    return SchemaVersionError(
        f"{name} ({where}) is at {at}; this govbus runs on revision {needed}: "
        "run `govbus storage migrate --as PARTICIPANT [--storage URL]` with this release, on one host, "
        "before starting its workers"
    )


__all__ = [
    "SchemaHistory",
    "SchemaVersionError",
    "existing_tables",
    "has_tables",
    "refusal",
    "run_script",
    "stamp",
    "stored_revision",
]
