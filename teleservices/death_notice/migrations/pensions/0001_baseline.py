"""The pension register as it was before schema versions were kept.

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
CREATE TABLE IF NOT EXISTS pensioners (
    cin TEXT PRIMARY KEY, last_name TEXT NOT NULL, first_name TEXT NOT NULL,
    birth_date TEXT NOT NULL, pension_number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'paid', suspended_from TEXT, suspended_by INTEGER);
CREATE TABLE IF NOT EXISTS death_notices (
    id INTEGER PRIMARY KEY, notifier TEXT NOT NULL, registry TEXT NOT NULL, act TEXT NOT NULL,
    cin TEXT NOT NULL, outcome TEXT NOT NULL, pension_number TEXT, suspended_from TEXT,
    cancelled INTEGER NOT NULL DEFAULT 0, reinstated INTEGER NOT NULL DEFAULT 0,
    UNIQUE (notifier, registry, act));
"""
POSTGRES_SCRIPT: str | None = None


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT, POSTGRES_SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a store is never dropped by a migration")
