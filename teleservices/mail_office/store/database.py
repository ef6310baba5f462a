"""The office's SQLite database: connections and transactions, each one handing out the office's statements.

One connection per operation, so threads and worker processes can share an office directory. Writes run
in ``BEGIN IMMEDIATE`` transactions: SQLite serialises them, which is what makes registration numbers
gap-free under concurrent deposits. Reads run in one deferred transaction: one consistent snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from teleservices.mail_office.errors import ConfigurationError
from teleservices.mail_office.store.mails import Mails
from teleservices.mail_office.store.outbox import OutboxRows
from teleservices.mail_office.store.registers import RegisterRows
from teleservices.mail_office.store.schema import SCHEMA, SCHEMA_VERSION, statements

DATABASE_FILE = "mail-office.sqlite3"
BUSY_TIMEOUT_SECONDS = 30.0


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


class Tx:
    """One open transaction: every statement the office runs, grouped by what it reads and writes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.mails = Mails(conn)
        self.outbox = OutboxRows(conn)
        self.registers = RegisterRows(conn)


class Store:
    """The database file of one office."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.create_function("casefold", 1, _casefold, deterministic=True)
        return conn

    def initialise(self) -> None:
        """Create the schema in a new database; check the version of an existing one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    for statement in statements(SCHEMA):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                elif version != SCHEMA_VERSION:
                    raise ConfigurationError(
                        f"{self.path} has schema version {version}; this govbus reads version {SCHEMA_VERSION}"
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on any error."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot for several queries."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN")
            try:
                yield Tx(conn)
            finally:
                conn.execute("ROLLBACK")
