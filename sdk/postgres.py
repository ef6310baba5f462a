"""PostgreSQL under the store base: ``PostgresDatabase``, one schema of one database per store.

The stores' SQL is written once, in the dialect both databases share: ``?`` placeholders (turned into
psycopg's ``%s`` here), ``INSERT ... ON CONFLICT``, ``RETURNING``, ``coalesce``. Their SQLite DDL is
rewritten by ``postgres_ddl`` (``INTEGER PRIMARY KEY`` becomes an identity column, ``INTEGER`` ``BIGINT``,
``REAL`` ``DOUBLE PRECISION``, ``BLOB`` ``BYTEA``, ``WITHOUT ROWID`` is dropped); a store whose DDL needs
more gives its own PostgreSQL schema.

Invariants, the same as ``SqliteDatabase``'s:
- a write transaction holds the store's transaction-scoped advisory lock from its first statement, so
  the writers of one store run one after the other on every host, like SQLite's ``BEGIN IMMEDIATE``
  (read-then-write code such as gap-free counters stays correct without ``SELECT ... FOR UPDATE``);
- a read runs in one ``REPEATABLE READ, READ ONLY`` snapshot;
- every transaction sets ``search_path`` to the store's schema, so the SQL names bare tables.

One connection pool (psycopg_pool) serves every store of a process that uses the same URL.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from bus.sql import lock_key, named_to_psycopg, postgres_ddl, to_psycopg

POOL_SIZE_ENV = "GOVBUS_PG_POOL_SIZE"
DEFAULT_POOL_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 10.0

_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


def pool_for(url: str) -> ConnectionPool:
    """The process's pool for ``url`` (autocommit connections; transactions are explicit)."""
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            size = int(os.environ.get(POOL_SIZE_ENV, "") or DEFAULT_POOL_SIZE)
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max(1, size),
                kwargs={"autocommit": True},
                timeout=CONNECT_TIMEOUT_SECONDS * 3,
                name="govbus",
                open=False,
            )
            pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
            _pools[url] = pool
        return pool


@atexit.register
def close_pools() -> None:
    """Close every pool of this process (at exit; tests call it too)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def _plain(value: Any) -> Any:
    """Enums by value (psycopg would write their names), everything else as is."""
    return value.value if isinstance(value, Enum) else value


class Row(tuple[Any, ...]):
    """A row read by position or by column name, as ``sqlite3.Row`` is (``rows_by_name``)."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def _named_rows(cursor: Any) -> Any:
    names = {column.name: index for index, column in reversed(list(enumerate(cursor.description or ())))}
    return lambda values: Row(values, names)


@contextmanager
def rows_by_name(conn: Any) -> Iterator[None]:
    """Within the block, rows of ``conn`` (a transaction's connection) are read by position or by name on
    PostgreSQL as well, as a store configured with ``sqlite3.Row`` reads them on SQLite."""
    if not isinstance(conn, PostgresConnection):
        yield
        return
    previous = conn.raw.row_factory
    conn.raw.row_factory = _named_rows
    try:
        yield
    finally:
        conn.raw.row_factory = previous


class PostgresConnection:
    """One psycopg connection inside a transaction, taking the stores' ``?`` SQL."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(
        self, query: str, parameters: Sequence[Any] | Mapping[str, Any] = (), /
    ) -> psycopg.Cursor[Any]:
        """``?`` placeholders with a sequence, SQLite's ``:name`` ones with a mapping."""
        if isinstance(parameters, Mapping):
            return self.raw.execute(named_to_psycopg(query), {k: _plain(v) for k, v in parameters.items()})
        return self.raw.execute(to_psycopg(query), [_plain(v) for v in parameters])

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def executemany(self, query: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        cursor.executemany(to_psycopg(query), [[_plain(v) for v in row] for row in parameters])
        return cursor


class PostgresDatabase:
    """One store's schema (``schema_name``) in a PostgreSQL database; ``schema`` is created on open.

    ``schema`` is SQLite DDL rewritten by ``postgres_ddl`` unless ``postgres_schema`` is given.
    """

    dialect = "postgresql"

    def __init__(
        self, url: str, schema_name: str, *, schema: str = "", postgres_schema: str | None = None
    ) -> None:
        self.url = url
        self.schema_name = schema_name
        self.pool = pool_for(url)
        self._lock = lock_key(schema_name)
        self._search_path = sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema_name))
        ddl = postgres_schema if postgres_schema is not None else postgres_ddl(schema)
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock,))  # one creator at a time
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema_name)))
            conn.execute(self._search_path)
            if ddl.strip():
                conn.execute(ddl.encode())  # several statements: no parameters, simple protocol

    @contextmanager
    def transaction(self) -> Iterator[PostgresConnection]:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(self._search_path)
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock,))
            yield PostgresConnection(conn)

    @contextmanager
    def reading(self) -> Iterator[PostgresConnection]:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.execute(self._search_path)
            yield PostgresConnection(conn)

    def qualified(self, table: str) -> str:
        """``"schema".table``, for hot paths that skip ``search_path`` (``table`` is a constant)."""
        return f"{sql.Identifier(self.schema_name).as_string()}.{table}"

    def close(self) -> None:
        """The pool is the process's, shared by every store on the same URL: nothing to close here."""


def drop_schemas(url: str, prefix: str) -> list[str]:
    """Drop every schema whose name starts with ``prefix`` (tests, and removing a participant)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_SECONDS)) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
            ).fetchall()
        ]
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    return names


__all__ = [
    "PostgresConnection",
    "PostgresDatabase",
    "close_pools",
    "drop_schemas",
    "lock_key",
    "pool_for",
    "postgres_ddl",
    "rows_by_name",
    "to_psycopg",
]
