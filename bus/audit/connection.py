"""The one connection a message log writes through: a SQLite file, or a schema in PostgreSQL.

Both take the log's ``?`` SQL (``bus.audit.store``) and open a write transaction with ``begin``:

- SQLite: ``BEGIN IMMEDIATE``, so one writer at a time holds the file (processes of one host);
- PostgreSQL: ``BEGIN`` then ``pg_advisory_xact_lock`` on the chain's key, held until ``COMMIT`` or
  ``ROLLBACK``, so one writer at a time, on every host sharing the database, reads the chain head and
  appends after it (READ COMMITTED: each statement after the lock sees every earlier writer's commit).
  That lock is what keeps writers on several hosts in one chain, gap-free and fork-free; ``seq`` is the
  primary key besides, so a second record at a sequence number could never commit.

Outside ``begin`` each statement commits on its own (autocommit).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql

from bus.sql import lock_key, to_psycopg

DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)
"""What a log's database raises when a statement fails (on either dialect)."""

CONNECT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class PostgresLocation:
    """A log (or anchor store) kept in PostgreSQL: the database URL and its schema."""

    url: str
    schema: str

    def __str__(self) -> str:
        return f"postgresql schema {self.schema}"


class LogCursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...


class LogConnection(Protocol):
    """What the log's store functions run their SQL on (``sqlite3.Connection`` is one)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> LogCursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> LogCursor: ...


class SqliteLog:
    """A log file: one autocommit SQLite connection (WAL)."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.raw = conn
        self.name = str(path)

    def execute(self, query: str, parameters: Sequence[Any] = (), /) -> sqlite3.Cursor:
        return self.raw.execute(query, parameters)

    def executemany(self, query: str, parameters: Iterable[Sequence[Any]], /) -> sqlite3.Cursor:
        return self.raw.executemany(query, parameters)

    def begin(self) -> None:
        self.raw.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("ROLLBACK")

    def has_table(self, table: str) -> bool:
        row = self.raw.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        return bool(row[0])

    def close(self) -> None:
        self.raw.close()


class PostgresLog:
    """A log in one PostgreSQL schema: a dedicated autocommit psycopg connection, its ``search_path`` set.

    ``durable=False`` (the log's ``synchronous="normal"``) sets ``synchronous_commit`` off for this session:
    a commit returns before its WAL reaches the disk, so a crash of the database server (not of a
    participant) may lose the last commits, never reorder or fork them; ``True`` waits for the disk.
    """

    dialect = "postgresql"

    def __init__(self, url: str, schema: str, *, durable: bool = True) -> None:
        self.url = url
        self.durable = durable
        self.schema = schema
        self.name = f"postgresql schema {schema}"
        self._lock = lock_key(f"govbus-audit-chain:{schema}")
        self._in_transaction = False
        self._closed = False
        self.raw: psycopg.Connection[Any] = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = psycopg.connect(
            self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
        try:
            with conn.transaction():  # one creator at a time: concurrent CREATE ... IF NOT EXISTS collide
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock,))
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            if not self.durable:
                conn.execute("SET synchronous_commit TO off")
        except BaseException:
            conn.close()
            raise
        return conn

    def _usable(self) -> psycopg.Connection[Any]:
        """The connection; a new one when the server dropped it (a restart), unless a transaction was open
        on it (then the error reaches the writer, whose transaction is lost, and the next one reconnects)."""
        if self.raw.broken and not self._in_transaction and not self._closed:
            self.raw.close()
            self.raw = self._connect()
        return self.raw

    def execute(self, query: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self._usable().execute(to_psycopg(query), list(parameters))

    def executemany(self, query: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self._usable().cursor()
        cursor.executemany(to_psycopg(query), [list(row) for row in parameters])
        return cursor

    def begin(self) -> None:
        self._in_transaction = False
        conn = self._usable()
        self._in_transaction = True
        # One round trip: two statements in one simple query (the key is an integer of ours, no parameter).
        conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({int(self._lock)})".encode())

    def commit(self) -> None:
        self.raw.execute("COMMIT")
        self._in_transaction = False

    def rollback(self) -> None:
        self._in_transaction = False
        if self.raw.broken or self.raw.closed:
            return
        if self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.raw.execute("ROLLBACK")

    def has_table(self, table: str) -> bool:
        row = self.raw.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename = %s", (self.schema, table)
        ).fetchone()
        return bool(row is not None and row[0])

    def close(self) -> None:
        self._closed = True
        self.raw.close()


__all__ = ["DATABASE_ERRORS", "LogConnection", "LogCursor", "PostgresLocation", "PostgresLog", "SqliteLog"]
