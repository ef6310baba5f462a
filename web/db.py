"""The portal's own SQLite file: accounts, sessions, sign-in failures, letters and the workspace's agents.

One connection shared by every request under a lock (the portal's writes are small and rare); each
``transaction`` is ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back when the block raises.

Its schema is versioned by Alembic like every govbus store (``bus.schema_versions``; revisions in
``web/migrations``): a new file is created at the newest layout (``SCHEMA``) and stamped
``SCHEMA_VERSION``; a file at another revision, or with tables but no revision (written before versions
were kept), is refused with ``SchemaVersionError`` naming ``govbus web migrate``, which upgrades it.
"""

from __future__ import annotations

import shlex
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bus.schema_versions import SchemaHistory, SchemaVersionError, has_tables, stamp, stored_revision
from bus.sql import split_statements

HISTORY = SchemaHistory("the portal's database", Path(__file__).with_name("migrations"))
SCHEMA_VERSION = "0002"
"""The revision ``SCHEMA`` is at: the head of ``HISTORY`` (a test keeps them equal)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('citizen', 'company')),
    identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    representative TEXT,
    email TEXT NOT NULL,
    password TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    pending_user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);
CREATE TABLE IF NOT EXISTS oidc_requests (
    state TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    created_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS letters (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    office TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    subject TEXT NOT NULL,
    deposit BLOB NOT NULL,
    acknowledgement BLOB NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (office, registration_number)
);
CREATE INDEX IF NOT EXISTS letters_owner ON letters (owner_id, id);
CREATE TABLE IF NOT EXISTS counter_letters (
    public_id TEXT PRIMARY KEY,
    office TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    visitor_kind TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    deposit BLOB NOT NULL,
    acknowledgement BLOB NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (office, registration_number)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counter_letters_visitor ON counter_letters (visitor_id, created_at);
CREATE TABLE IF NOT EXISTS agents (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    administration TEXT,
    service TEXT,
    roles TEXT NOT NULL,
    password TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE TABLE IF NOT EXISTS agent_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER REFERENCES agents (id) ON DELETE CASCADE,
    pending_user_id INTEGER REFERENCES agents (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
"""
"""The newest layout, for a new file (an existing one is upgraded by ``HISTORY``'s revisions)."""


def migrate_command(path: Path) -> str:
    """The command that upgrades the portal's database at ``path``."""
    return f"govbus web migrate --data {shlex.quote(str(path.parent))}"


class Database:
    """The portal's SQLite file, created at the newest schema on first open; refused at another revision."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._lock = threading.RLock()
        try:
            self._settle_schema()
        except BaseException:
            self._conn.close()
            raise

    def _settle_schema(self) -> None:
        with self.transaction() as conn:
            current = stored_revision(conn, "sqlite")
            if current == SCHEMA_VERSION:
                return
            if current is None and not has_tables(conn, "sqlite"):
                for statement in split_statements(SCHEMA):  # not executescript: it would commit
                    conn.execute(statement)
                stamp(conn, SCHEMA_VERSION)
                return
        at = (
            f"schema revision {current}"
            if current
            else "no schema revision (written before versions were kept)"
        )
        raise SchemaVersionError(
            f"{HISTORY.name} ({self.path}) is at {at}; this govbus runs on revision {SCHEMA_VERSION}: "
            f"run `{migrate_command(self.path)}` with this release before starting the portal"
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back when it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()
