"""A participant's state as it was before schema versions were kept: ids handled, notifications sent.

Every statement is ``IF NOT EXISTS``, so a store written before versions were kept is adopted as it is
(with or without the ``owner`` column of ``handled``, which revision 0002 adds when missing).

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
CREATE TABLE IF NOT EXISTS handled (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    state TEXT NOT NULL,
    response BLOB,
    keep_until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sent_notifications (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    service TEXT NOT NULL,
    sent_at REAL NOT NULL
);
"""
POSTGRES_SCRIPT: str | None = None


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT, POSTGRES_SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a store is never dropped by a migration")
