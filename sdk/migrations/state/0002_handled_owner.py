"""The worker that holds each claim of ``handled`` (``owner``), added where an older store lacks it.

Stores written by earlier releases may already have the column (added when the store was opened): it is
then left as it is.

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
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("ALTER TABLE handled ADD COLUMN IF NOT EXISTS owner TEXT")
        return
    columns = {str(row[1]) for row in bind.exec_driver_sql("PRAGMA table_info(handled)").fetchall()}
    if "owner" not in columns:
        bind.exec_driver_sql("ALTER TABLE handled ADD COLUMN owner TEXT")


def downgrade() -> None:
    raise NotImplementedError("a column holding live claims is not dropped by a migration")
