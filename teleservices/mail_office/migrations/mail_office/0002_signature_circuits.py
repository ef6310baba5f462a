"""Replies held until a signature book completes their circuit: the ``signature_circuits`` table.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from bus.schema_versions import run_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCRIPT = """CREATE TABLE IF NOT EXISTS signature_circuits (
    number TEXT PRIMARY KEY REFERENCES mails (number),  -- the held reply
    steps TEXT NOT NULL,             -- JSON: [{"kind", "quorum", "signatories": [...]}]
    state TEXT NOT NULL,             -- to-submit, in-circuit, signed, rejected
    book TEXT,
    folder_id TEXT UNIQUE,
    current_step INTEGER,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_actor TEXT,
    on_behalf_of TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL
)
"""


def upgrade() -> None:
    run_script(op.get_bind(), SCRIPT)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS signature_circuits")
