"""The employer register as it was before schema versions were kept.

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
CREATE TABLE IF NOT EXISTS employers (
    ice TEXT PRIMARY KEY, affiliation TEXT NOT NULL UNIQUE, name TEXT NOT NULL, city TEXT NOT NULL,
    declared_through TEXT NOT NULL, paid_through TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    number TEXT PRIMARY KEY, ice TEXT NOT NULL REFERENCES employers (ice), issued TEXT NOT NULL,
    valid_until TEXT NOT NULL, UNIQUE (ice, issued));
CREATE TABLE IF NOT EXISTS certificate_counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
"""
POSTGRES_SCRIPT: str | None = None


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT, POSTGRES_SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a store is never dropped by a migration")
