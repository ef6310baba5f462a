"""The message log as written before schema versions were kept: meta, records, checkpoints, archives.

Every statement is ``IF NOT EXISTS``, so a log written before versions were kept is adopted as it is.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from bus.sql import postgres_ddl

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, recorded_at TEXT, direction TEXT, "
    "outcome TEXT, fault_code TEXT, fault_reason TEXT, mode TEXT, header_origin TEXT, message_id TEXT, "
    "kind TEXT, client TEXT, service TEXT, user_id TEXT, purpose TEXT, issued TEXT, expires TEXT, "
    "correlation_id TEXT, request_hash TEXT, size INTEGER NOT NULL, sha256 TEXT, stored_size INTEGER NOT NULL, "
    "stored_sha256 TEXT, raw BLOB, hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_conversation ON records (coalesce(correlation_id, message_id))",
    "CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER NOT NULL, head TEXT NOT NULL, time TEXT NOT NULL, "
    "participant TEXT NOT NULL, log_id TEXT NOT NULL, algorithm TEXT NOT NULL, signature BLOB NOT NULL, "
    "certificate BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS checkpoints_seq ON checkpoints (seq)",
    "CREATE TABLE IF NOT EXISTS archives (file TEXT NOT NULL, first_seq INTEGER NOT NULL, "
    "last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL, sha256 TEXT NOT NULL, archived_at TEXT NOT NULL)",
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in STATEMENTS:
        op.execute(postgres_ddl(statement) if postgres else statement)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a message log is never dropped by a migration")
