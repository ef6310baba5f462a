"""A participant's state (``state.sqlite``, or its ``state`` schema on PostgreSQL): one versioned store.

It holds the ids the participant handled with their answers (``handled``: ``sdk.idempotency`` and
``sdk.idempotency_postgres``) and the digests of the notifications it sent (``sent_notifications``:
``sdk.receipts``). Both live in one file, so they share one schema history (``sdk/migrations/state``):
whichever opens the store first creates it at the newest layout and stamps it; a store at another
revision (or written before versions were kept) is refused until ``govbus storage migrate`` upgrades it.
"""

from __future__ import annotations

from pathlib import Path

from bus.schema_versions import SchemaHistory
from sdk.store import Database, SqliteDatabase, Store

STATE_FILE = "state.sqlite"


class ParticipantState(Store):
    """The schema of ``state.sqlite`` at its newest revision (``SCHEMA_VERSION``)."""

    FILE_NAME = STATE_FILE
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS handled (id TEXT PRIMARY KEY, digest TEXT NOT NULL, state TEXT NOT NULL,"
        " response BLOB, keep_until REAL NOT NULL, owner TEXT);\n"
        "CREATE TABLE IF NOT EXISTS sent_notifications (id TEXT PRIMARY KEY, digest TEXT NOT NULL,"
        " service TEXT NOT NULL, sent_at REAL NOT NULL);"
    )
    MIGRATIONS = SchemaHistory("participant state", Path(__file__).with_name("migrations") / "state")
    SCHEMA_VERSION = "0002"


def settle_state(database: Database | Path) -> None:
    """Create the state store at ``database`` (a SQLite file, or a PostgreSQL schema) at its newest revision,
    or check it is there; ``SchemaVersionError`` when it is at another revision."""
    if isinstance(database, Path):
        database = SqliteDatabase(database)
    ParticipantState(database).settle_schema()


__all__ = ["STATE_FILE", "ParticipantState", "settle_state"]
