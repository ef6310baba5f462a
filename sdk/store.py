"""The one store base of participants: a database with write transactions and read snapshots.

``Database`` is the interface a participant's stores are written against, with two implementations:
``SqliteDatabase`` here and ``sdk.postgres.PostgresDatabase`` (chosen by the node's storage URL, see
``sdk.storage``). Stores write SQL both run (``?`` placeholders, ``INSERT ... ON CONFLICT``, ``RETURNING``)
and SQLite DDL that ``sdk.postgres.postgres_ddl`` rewrites, or give ``POSTGRES_SCHEMA``. ``SqliteDatabase`` opens one short-lived
connection per transaction, so one instance serves every handler thread, and several worker processes
may share the file: writes run in ``BEGIN IMMEDIATE`` (SQLite serialises them, so two workers never
decide on the same row at once) and reads in a consistent snapshot.

A store subclasses ``Store``, names its file and its schema, and reaches its data only through
``transaction()`` and ``reading()``::

    class Register(Store):
        FILE_NAME = "register.sqlite"
        SCHEMA = "CREATE TABLE IF NOT EXISTS people (cin TEXT PRIMARY KEY, name TEXT NOT NULL);"

        def add(self, cin: str, name: str) -> None:
            with self.transaction() as db:
                db.execute("INSERT INTO people VALUES (?, ?)", (cin, name))

    register = Register.open(env.storage)   # or a directory: SQLite
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self

from bus.schema_versions import SchemaHistory, has_tables, refusal, stamp, stored_revision
from bus.sql import postgres_ddl, split_statements

BUSY_TIMEOUT_SECONDS = 30.0


class Cursor(Protocol):
    """What ``execute`` returns on both databases."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...


class Connection(Protocol):
    """What a transaction hands its block: ``execute`` and ``executemany`` with ``?`` placeholders."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Database(Protocol):
    """Where a store keeps its rows: write transactions and read snapshots, both thread-safe.

    A write transaction excludes every other writer of the same store (on every host sharing it), so
    code that reads then writes (a counter) needs no row locks.
    """

    dialect: str  # "sqlite" or "postgresql"

    def transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction, committed when the block ends, rolled back if it raises."""
        ...

    def reading(self) -> AbstractContextManager[Connection]:
        """A consistent read snapshot."""
        ...

    def close(self) -> None: ...


class Locator(Protocol):
    """Where a participant's stores live (``sdk.storage.Storage``)."""

    def database(
        self,
        file_name: str,
        *,
        schema: str = ...,
        postgres_schema: str | None = ...,
        configure: Callable[[sqlite3.Connection], None] | None = ...,
    ) -> Database: ...


class SqliteDatabase:
    """One SQLite file (WAL, foreign keys on); ``schema`` is run once when it is opened.

    ``configure`` is applied to every connection (a row factory, SQL functions).
    """

    dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        schema: str = "",
        configure: Callable[[sqlite3.Connection], None] | None = None,
        timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = Path(path)
        self._configure = configure
        self._timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self.connect()) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            if schema:
                conn.executescript(schema)

    def connect(self) -> sqlite3.Connection:
        """A new autocommit connection, configured; the caller closes it."""
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        if self._configure is not None:
            self._configure(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with closing(self.connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with closing(self.connect()) as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        """Nothing stays open between transactions."""


class Store:
    """Base of a participant's store: a subclass names its file and schema, and may configure connections.

    ``SCHEMA`` is SQLite DDL; ``POSTGRES_SCHEMA`` replaces its automatic rewrite for PostgreSQL.
    """

    FILE_NAME: ClassVar[str]
    SCHEMA: ClassVar[str] = ""
    POSTGRES_SCHEMA: ClassVar[str | None] = None
    MIGRATIONS: ClassVar[SchemaHistory | None] = None
    SCHEMA_VERSION: ClassVar[str] = ""

    def __init__(self, database: Database) -> None:
        self.database = database

    @classmethod
    def open(cls, where: Path | str | Locator) -> Self:
        """Open (creating if needed) the store: its SQLite file in a directory, or where a storage says.

        A versioned store (``MIGRATIONS``) is created at its newest layout and stamped ``SCHEMA_VERSION``;
        one at another revision, or with tables but no revision, raises ``SchemaVersionError``.
        """
        versioned = cls.MIGRATIONS is not None
        schema = "" if versioned else cls.SCHEMA
        postgres_schema = None if versioned else cls.POSTGRES_SCHEMA
        if isinstance(where, Path | str):
            store = cls(SqliteDatabase(Path(where) / cls.FILE_NAME, schema=schema, configure=cls.configure))
        else:
            store = cls(
                where.database(
                    cls.FILE_NAME, schema=schema, postgres_schema=postgres_schema, configure=cls.configure
                )
            )
        if versioned:
            store.settle_schema()
        return store

    @classmethod
    def create_statements(cls, dialect: str) -> list[str]:
        """The newest layout, one statement each: ``SCHEMA``, or on PostgreSQL ``POSTGRES_SCHEMA`` if given."""
        if dialect == "postgresql":
            script = cls.POSTGRES_SCHEMA if cls.POSTGRES_SCHEMA is not None else postgres_ddl(cls.SCHEMA)
        else:
            script = cls.SCHEMA
        return split_statements(script)

    def settle_schema(self) -> None:
        """Create a new store at ``SCHEMA_VERSION``; refuse one at any other revision (``SchemaVersionError``).

        Run by ``open``; a subclass with its own ``open`` calls it on a database opened without a schema.
        """
        assert self.MIGRATIONS is not None and self.SCHEMA_VERSION
        dialect = self.database.dialect
        with self.reading() as conn:
            if stored_revision(conn, dialect) == self.SCHEMA_VERSION:
                return
        with self.transaction() as conn:
            current = stored_revision(conn, dialect)
            if current == self.SCHEMA_VERSION:
                return
            if current is None and not has_tables(conn, dialect):
                for statement in self.create_statements(dialect):
                    conn.execute(statement)
                stamp(conn, self.SCHEMA_VERSION)
                return
        where = (
            getattr(self.database, "path", None)
            or f"postgresql schema {getattr(self.database, 'schema_name', '')}"
        )
        raise refusal(self.MIGRATIONS.name, where, current, self.SCHEMA_VERSION)

    @staticmethod
    def configure(conn: sqlite3.Connection) -> None:
        """Applied to every connection (override to add a row factory or SQL functions)."""

    def transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction, committed unless the block raises."""
        return self.database.transaction()

    def reading(self) -> AbstractContextManager[Connection]:
        """A consistent read snapshot."""
        return self.database.reading()

    def fetchone(self, query: str, args: tuple[Any, ...] = ()) -> Any:
        """The first row of a read-only ``query`` (None when there is none)."""
        with self.reading() as db:
            return db.execute(query, args).fetchone()

    def fetchall(self, query: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of a read-only ``query``."""
        with self.reading() as db:
            return db.execute(query, args).fetchall()

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def scalar(conn: Connection, query: str, args: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of ``query`` (None when there is no row)."""
    row = conn.execute(query, args).fetchone()
    return row[0] if row is not None else None


__all__ = [
    "Connection",
    "Cursor",
    "Database",
    "Locator",
    "SchemaHistory",
    "SqliteDatabase",
    "Store",
    "scalar",
]
