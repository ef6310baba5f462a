"""Agents can be disabled: ``agents.disabled_at`` (when; NULL while the agent may sign in).

A database that got the column before versions were kept (the workspace added it when it was missing)
keeps it as it is.

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
    columns = {str(row[1]) for row in bind.exec_driver_sql("PRAGMA table_info(agents)").fetchall()}
    if "disabled_at" not in columns:
        bind.exec_driver_sql("ALTER TABLE agents ADD COLUMN disabled_at TEXT")


def downgrade() -> None:
    raise NotImplementedError("a column is never dropped by a migration: it may hold the only record")
