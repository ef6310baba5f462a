"""The tracker's register of accesses, one row per (provider, message id)."""

from __future__ import annotations

from pathlib import Path

from sdk import Store
from sdk.store import SchemaHistory
from teleservices.access_tracker.contract import Access, AccessFields

_COLUMNS = ("subject", "client", "provider", "service", "purpose", "message_id", "request_hash", "accessed")
_LIST = ", ".join(_COLUMNS)
_INSERT = f"INSERT OR IGNORE INTO accesses ({_LIST}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608 (constant)
_OF_SUBJECT = f"SELECT {_LIST} FROM accesses WHERE subject = ? ORDER BY accessed DESC"  # noqa: S608 (constant)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class AccessRegister(Store):
    """Accesses as providers reported them; a repeated report (same provider and message id) is kept once."""

    FILE_NAME = "accesses.sqlite"
    MIGRATIONS = SchemaHistory("access register", MIGRATIONS_DIR / "accesses")
    SCHEMA_VERSION = "0001"
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS accesses (
        subject TEXT NOT NULL,
        client TEXT NOT NULL,
        provider TEXT NOT NULL,
        service TEXT NOT NULL,
        purpose TEXT NOT NULL,
        message_id TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        accessed TEXT NOT NULL,
        PRIMARY KEY (provider, message_id)
    );
    CREATE INDEX IF NOT EXISTS accesses_by_subject ON accesses (subject, accessed);
    """

    def add(self, access: AccessFields) -> None:
        values = tuple(
            access.accessed.isoformat() if name == "accessed" else getattr(access, name) for name in _COLUMNS
        )
        with self.transaction() as db:
            db.execute(_INSERT, values)

    def of_subject(self, subject: str) -> list[Access]:
        """The subject's accesses, most recent first."""
        rows = self.fetchall(_OF_SUBJECT, (subject,))
        return [Access(**dict(zip(_COLUMNS, row, strict=True))) for row in rows]
