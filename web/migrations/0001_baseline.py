"""The portal's database as it was before schema versions were kept.

Accounts, sessions, sign-in failures (throttling), OpenID Connect requests, deposited letters, counter
letters, and the workspace's agents and agent sessions. Every statement is ``IF NOT EXISTS``, so a
database written before versions were kept is adopted as it is (whichever of its tables it has).

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
    created_at TEXT NOT NULL
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


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a database is never dropped by a migration")
