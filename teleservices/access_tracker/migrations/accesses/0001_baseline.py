"""The access register as it was before schema versions were kept.

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
POSTGRES_SCRIPT: str | None = None


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT, POSTGRES_SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a store is never dropped by a migration")
