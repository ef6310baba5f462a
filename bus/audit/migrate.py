"""Schema versions of the message log, kept and upgraded by Alembic on SQLite and PostgreSQL alike.

The revisions live in ``bus/audit/migrations/versions`` (``0001`` is the layout written before versions
were kept) and run in the environment every store shares (``bus.schema_versions``). A new log is created
at the newest layout (``store.SCHEMA``) and stamped with ``store.SCHEMA_VERSION``, which must be
Alembic's head (a test checks it). ``migrate_log`` upgrades an existing log to the head; a log without a
version table is an ``0001`` log (its baseline statements are all ``IF NOT EXISTS``). A PostgreSQL log's
version table sits in its own schema.
"""

from __future__ import annotations

from pathlib import Path

from bus.audit.connection import PostgresLocation
from bus.schema_versions import SchemaHistory

MIGRATIONS = Path(__file__).with_name("migrations")
HISTORY = SchemaHistory("message log", MIGRATIONS / "versions")


def head_revision() -> str:
    """The newest revision of the message log's schema."""
    return HISTORY.head()


def log_revision(where: Path | PostgresLocation) -> str | None:
    """The revision a log is at (None: written before versions were kept, or not there)."""
    return HISTORY.revision(where)


def migrate_log(where: Path | PostgresLocation) -> tuple[str | None, str]:
    """Upgrade the log at ``where`` to the head revision; return (revision before, revision after)."""
    return HISTORY.migrate(where)


__all__ = ["HISTORY", "head_revision", "log_revision", "migrate_log"]
