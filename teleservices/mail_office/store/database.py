"""The office's database on the SDK's store base: a versioned schema, and transactions handing out a ``Tx``.

``sdk.store`` opens one connection per transaction (so threads and worker processes can share an office
directory) and runs writes in ``BEGIN IMMEDIATE``: SQLite serialises them, which is what makes
registration numbers gap-free under concurrent deposits. Reads see one consistent snapshot. The schema
is created in the first write transaction and its version checked on every open. Opened on a storage
whose URL is PostgreSQL, the office lives in its ``mail_office`` schema, shared by every host running it:
writes there hold the store's advisory lock, so numbers stay gap-free across hosts too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sdk.postgres import rows_by_name
from sdk.store import Connection, Locator, Store, scalar
from teleservices.mail_office.errors import ConfigurationError
from teleservices.mail_office.store.mails import Mails
from teleservices.mail_office.store.outbox import OutboxRows
from teleservices.mail_office.store.registers import RegisterRows
from teleservices.mail_office.store.schema import SCHEMA, SCHEMA_VERSION, postgres_statements, statements
from teleservices.mail_office.store.signatures import SignatureRows

DATABASE_FILE = "mail-office.sqlite3"


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


class Tx:
    """One open transaction: every statement the office runs, grouped by what it reads and writes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.mails = Mails(conn)
        self.outbox = OutboxRows(conn)
        self.registers = RegisterRows(conn)
        self.signatures = SignatureRows(conn)


class OfficeStore(Store):
    """The database file of one office (``mail-office.sqlite3`` in its directory)."""

    FILE_NAME = DATABASE_FILE

    @staticmethod
    def configure(conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        conn.create_function("casefold", 1, _casefold, deterministic=True)

    @classmethod
    def open(cls, directory: Path | Locator) -> Self:
        """Open the office database in ``directory`` (or where a storage says): created on first use, its
        version checked."""
        store = super().open(directory)
        postgres = store.database.dialect == "postgresql"
        with store.transaction() as conn:
            version = _version(conn, postgres)
            if version == 0:
                for statement in postgres_statements(SCHEMA) if postgres else statements(SCHEMA):
                    conn.execute(statement)
                _set_version(conn, postgres)
            elif version != SCHEMA_VERSION:
                where = (
                    Path(directory) / cls.FILE_NAME if isinstance(directory, Path | str) else cls.FILE_NAME
                )
                raise ConfigurationError(
                    f"{where} has schema version {version}; this govbus reads version {SCHEMA_VERSION}"
                )
        return store

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction, committed on success, rolled back on any error."""
        with self.transaction() as conn, rows_by_name(conn):
            yield Tx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot for several queries."""
        with self.reading() as conn, rows_by_name(conn):
            yield Tx(conn)


def _version(conn: Connection, postgres: bool) -> int:
    """The schema version (0: a new database); PostgreSQL keeps it in a ``user_version`` table."""
    if not postgres:
        return int(scalar(conn, "PRAGMA user_version"))
    conn.execute("CREATE TABLE IF NOT EXISTS user_version (version INTEGER NOT NULL)")
    return int(scalar(conn, "SELECT max(version) FROM user_version") or 0)


def _set_version(conn: Connection, postgres: bool) -> None:
    if postgres:
        conn.execute("INSERT INTO user_version (version) VALUES (?)", (SCHEMA_VERSION,))
    else:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
