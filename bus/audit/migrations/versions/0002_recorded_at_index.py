"""Records indexed by recording time, so ``govbus audit search --since/--until`` reads only the range.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS records_recorded_at ON records (recorded_at)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS records_recorded_at")
