"""A message log kept in PostgreSQL, copied to the offline format: one SQLite log file.

The auditor's tools (``govbus audit verify``, ``search``, ``show``, ``export``) read SQLite log files, the
format an auditor receives and keeps; a PostgreSQL log is verified by copying it, in one consistent
snapshot, into such a file. The copy is exact (the meta table, every record with its stored bytes and
chain hash, the checkpoints and archive links), so whatever verifies the copy verified the database's
log as of the snapshot, and any tampering in the database shows in the copy.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from bus.audit import store
from bus.audit.connection import CONNECT_TIMEOUT_SECONDS, DATABASE_ERRORS, PostgresLocation
from bus.audit.errors import AuditError
from bus.sql import schema_name

LOG_STORE_FILE = store.LOG_FILENAME
BATCH = 1000


def postgres_location(url: str, participant: str) -> PostgresLocation:
    """Where ``participant``'s message log lives in the PostgreSQL database at ``url``."""
    return PostgresLocation(url, schema_name(participant, LOG_STORE_FILE))


def export_postgres_log(location: PostgresLocation, out: Path) -> Path:
    """Copy the log at ``location`` into a new SQLite log file ``out``; ``AuditError`` if there is none.

    ``out`` must not exist yet (a copy never merges into another log).
    """
    if out.exists():
        raise AuditError(f"{out} already exists: the copy goes to a new file")
    try:
        with psycopg.connect(location.url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as source:
            source.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            found = source.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename = 'meta'",
                (location.schema,),
            ).fetchone()
            if not found or not found[0]:
                raise AuditError(f"{location}: no message log there")
            table = f'"{location.schema}".'  # a schema_name: lower-case letters, digits and _ only
            target = store.connect(out)
            try:
                target.execute("BEGIN IMMEDIATE")
                meta: dict[str, str] = dict(source.execute(f"SELECT key, value FROM {table}meta").fetchall())  # noqa: S608
                store.create(target, meta)
                with source.cursor(name="govbus_export") as records:
                    records.execute(
                        f"SELECT {', '.join(store.RECORD_COLUMNS)} FROM {table}records ORDER BY seq"  # noqa: S608
                    )
                    while rows := records.fetchmany(BATCH):
                        target.executemany(store.INSERT_RECORD, rows)
                rows = source.execute(f"SELECT {store.CHECKPOINT_COLUMNS} FROM {table}checkpoints").fetchall()  # noqa: S608
                target.executemany(store.INSERT_CHECKPOINT, rows)
                links = source.execute(
                    f"SELECT file, first_seq, last_seq, last_hash, sha256, archived_at FROM {table}archives"  # noqa: S608
                ).fetchall()
                target.executemany(
                    "INSERT INTO archives (file, first_seq, last_seq, last_hash, sha256, archived_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    links,
                )
                target.execute("COMMIT")
            except BaseException:
                target.close()
                out.unlink(missing_ok=True)
                raise
            target.close()
    except DATABASE_ERRORS as error:
        if isinstance(error, sqlite3.Error):
            raise AuditError(f"{out}: cannot write the copy ({error})") from None
        raise AuditError(f"{location}: cannot read the message log ({error})") from None
    return out


__all__ = ["export_postgres_log", "postgres_location"]
