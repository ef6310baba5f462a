"""The civil register as it was before schema versions were kept.

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
CREATE TABLE IF NOT EXISTS office (
    participant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, registry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deaths (
    act TEXT PRIMARY KEY, year INTEGER NOT NULL, seq INTEGER NOT NULL, cin TEXT NOT NULL,
    last_name TEXT NOT NULL, first_name TEXT NOT NULL, birth_date TEXT, date_of_death TEXT NOT NULL,
    place_of_death TEXT NOT NULL, registered_on TEXT NOT NULL, cancelled_reason TEXT,
    UNIQUE (year, seq));
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY, act TEXT NOT NULL REFERENCES deaths (act), kind TEXT NOT NULL,
    expected TEXT NOT NULL, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
    notification_id TEXT NOT NULL, fund TEXT NOT NULL, outcome TEXT NOT NULL, pension_number TEXT,
    effective TEXT, fault TEXT, received_at TEXT NOT NULL, PRIMARY KEY (notification_id, fund));
"""
POSTGRES_SCRIPT: str | None = """
CREATE TABLE IF NOT EXISTS office (
    participant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, registry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deaths (
    act TEXT PRIMARY KEY, year BIGINT NOT NULL, seq BIGINT NOT NULL, cin TEXT NOT NULL,
    last_name TEXT NOT NULL, first_name TEXT NOT NULL, birth_date TEXT, date_of_death TEXT NOT NULL,
    place_of_death TEXT NOT NULL, registered_on TEXT NOT NULL, cancelled_reason TEXT,
    UNIQUE (year, seq));
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY, act TEXT NOT NULL REFERENCES deaths (act), kind TEXT NOT NULL,
    expected TEXT NOT NULL, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
    notification_id TEXT NOT NULL, fund TEXT NOT NULL, outcome TEXT NOT NULL, pension_number TEXT,
    effective TEXT, fault TEXT, received_at TEXT NOT NULL, arrival BIGINT GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (notification_id, fund));
"""


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT, POSTGRES_SCRIPT)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed: a store is never dropped by a migration")
