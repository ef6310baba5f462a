"""The mail depositor as it was before schema versions were kept.

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
CREATE TABLE IF NOT EXISTS steps (
    office TEXT NOT NULL,
    number TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    change BLOB NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (office, number, sequence)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS letters (
    id INTEGER PRIMARY KEY,
    office TEXT NOT NULL,
    digest TEXT NOT NULL,
    recipient TEXT NOT NULL,
    letter BLOB NOT NULL,
    acknowledgement BLOB NOT NULL,
    UNIQUE (office, digest)
);
"""
POSTGRES_SCRIPT: str | None = None


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT, POSTGRES_SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a store is never dropped by a migration")
