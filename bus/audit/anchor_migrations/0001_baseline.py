"""The anchor store as it was before schema versions were kept: the anchors table and its index.

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
CREATE TABLE IF NOT EXISTS anchors (participant TEXT NOT NULL, log_id TEXT NOT NULL, seq INTEGER NOT NULL,
    head TEXT NOT NULL, time TEXT NOT NULL, algorithm TEXT NOT NULL, signature BLOB NOT NULL,
    certificate BLOB NOT NULL, received_at TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS anchors_log ON anchors (participant, log_id, seq);
"""


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: anchors are never dropped by a migration")
