"""The signature book as it was before schema versions were kept.

Every statement is ``IF NOT EXISTS``, so a store written before versions were kept is adopted as it is.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from bus.schema_versions import run_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCRIPT = """
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY,
    submitter TEXT NOT NULL,
    business_type TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    current_step INTEGER,
    submitted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    head TEXT NOT NULL,
    manifest TEXT,
    seal TEXT
);
CREATE TABLE IF NOT EXISTS history (
    folder_id TEXT NOT NULL REFERENCES folders(id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (folder_id, seq)
);
CREATE TABLE IF NOT EXISTS members (
    folder_id TEXT NOT NULL REFERENCES folders(id),
    participant TEXT NOT NULL,
    PRIMARY KEY (folder_id, participant)
);
CREATE TABLE IF NOT EXISTS awaiting (
    folder_id TEXT NOT NULL REFERENCES folders(id),
    participant TEXT NOT NULL,
    PRIMARY KEY (folder_id, participant)
);
CREATE INDEX IF NOT EXISTS awaiting_participant ON awaiting(participant);
CREATE TABLE IF NOT EXISTS delegations (
    id TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    substitute TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS delegations_substitute ON delegations(substitute);
CREATE INDEX IF NOT EXISTS delegations_principal ON delegations(principal);

CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered_at, seq);
"""
POSTGRES_SCRIPT: str | None = None


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT, POSTGRES_SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a store is never dropped by a migration")
