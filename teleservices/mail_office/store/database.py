"""The office's database on the SDK's store base: a versioned schema, and transactions handing out a ``Tx``.

``sdk.store`` opens one connection per transaction (so threads and worker processes can share an office
directory) and runs writes in ``BEGIN IMMEDIATE``: SQLite serialises them, which is what makes
registration numbers gap-free under concurrent deposits. Reads see one consistent snapshot. The schema
is created at its newest Alembic revision on first use and its revision checked on every open
(``bus.schema_versions``; ``govbus storage migrate`` upgrades an older one). Opened on a storage
whose URL is PostgreSQL, the office lives in its ``mail_office`` schema, shared by every host running it:
writes there hold the store's advisory lock, so numbers stay gap-free across hosts too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from bus.schema_versions import SchemaVersionError
from bus.sql import postgres_ddl
from sdk.postgres import rows_by_name
from sdk.store import Locator, SchemaHistory, Store
from teleservices.mail_office.errors import ConfigurationError
from teleservices.mail_office.store.mails import Mails
from teleservices.mail_office.store.outbox import OutboxRows
from teleservices.mail_office.store.registers import RegisterRows
from teleservices.mail_office.store.schema import SCHEMA, SCHEMA_VERSION, postgres_statements, statements
from teleservices.mail_office.store.signatures import TABLE as SIGNATURE_CIRCUITS
from teleservices.mail_office.store.signatures import SignatureRows

DATABASE_FILE = "mail-office.sqlite3"
MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"


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
    MIGRATIONS = SchemaHistory("mail office", MIGRATIONS_DIR / "mail_office")
    SCHEMA_VERSION = SCHEMA_VERSION

    @staticmethod
    def configure(conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        conn.create_function("casefold", 1, _casefold, deterministic=True)

    @classmethod
    def open(cls, directory: Path | Locator) -> Self:
        """Open the office database in ``directory`` (or where a storage says): created at the newest
        revision on first use; one at another revision is refused (``ConfigurationError``)."""
        try:
            return super().open(directory)
        except SchemaVersionError as error:
            raise ConfigurationError(str(error)) from None

    @classmethod
    def create_statements(cls, dialect: str) -> list[str]:
        """The newest layout: the tables of ``schema`` and the ``signature_circuits`` table."""
        if dialect == "postgresql":
            return [*postgres_statements(SCHEMA), postgres_ddl(SIGNATURE_CIRCUITS)]
        return [*statements(SCHEMA), SIGNATURE_CIRCUITS]

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
