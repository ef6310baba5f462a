"""The office database's schema: tables, indexes and the triggers that keep history append-only.

``SCHEMA`` and the ``signature_circuits`` table (``signatures``) are the newest layout, Alembic revision
``SCHEMA_VERSION`` (``teleservices/mail_office/migrations/mail_office``); an office refuses a database at
another revision. ``postgres_statements`` is the same
schema for PostgreSQL: the DDL rewritten by ``postgres_ddl``, the SQL functions the queries call
(``casefold``, ``instr``) and the append-only triggers in PL/pgSQL.
"""

from __future__ import annotations

from bus.sql import postgres_ddl
from bus.sql import split_statements as statements

SCHEMA_VERSION = "0002"

SCHEMA = """
CREATE TABLE counters (
    register TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (register, year)
) WITHOUT ROWID;

CREATE TABLE mails (
    id INTEGER PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
    year INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    sender_kind TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    recipient_kind TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    mail_type TEXT NOT NULL,
    registered_at TEXT NOT NULL,       -- UTC, milliseconds: 2026-03-02T09:30:15.123Z
    registered_on TEXT NOT NULL,       -- the office's local date
    deadline TEXT,                     -- incoming: local date
    service TEXT,
    agent TEXT,
    digest TEXT NOT NULL,              -- deposit digest (for outgoing: of the deposit delivered)
    channel TEXT,                      -- incoming: the system that deposited it; outgoing: where it goes
    linked_number TEXT,                -- the other side's registration of the same letter
    linked_status TEXT,                -- outgoing: last status the recipient reported
    linked_sequence INTEGER,
    in_reply_to INTEGER REFERENCES mails (id),
    answers TEXT,                      -- the registration number, as the recipient knows it, answered
    acknowledgement BLOB,              -- incoming: the one issued; outgoing: the recipient's
    UNIQUE (direction, year, counter)
);
CREATE UNIQUE INDEX mails_deposit ON mails (sender_kind, sender_id, digest) WHERE direction = 'incoming';
CREATE INDEX mails_status ON mails (direction, status);
CREATE INDEX mails_linked ON mails (linked_number);

CREATE TABLE attachments (
    mail_id INTEGER NOT NULL REFERENCES mails (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (mail_id, position)
);

CREATE TABLE history (
    mail_id INTEGER NOT NULL REFERENCES mails (id),
    sequence INTEGER NOT NULL,
    action TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    service TEXT,
    agent TEXT,
    comment TEXT,
    PRIMARY KEY (mail_id, sequence)
);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'the history of a letter is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'the history of a letter is append-only'); END;

CREATE TABLE opinions (
    id INTEGER PRIMARY KEY,
    mail_id INTEGER NOT NULL REFERENCES mails (id),
    consulted TEXT NOT NULL,
    question TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    opinion TEXT,
    given_by TEXT,
    given_at TEXT
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    destination TEXT NOT NULL,
    mail_id INTEGER NOT NULL REFERENCES mails (id),
    payload BLOB,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt_at TEXT,
    sent_at TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
"""


POSTGRES_EXTRAS = (
    # casefold as lower (full Unicode case folding is not built in); instr as strpos.
    "CREATE OR REPLACE FUNCTION casefold(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)'",
    "CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT strpos($1, $2)'",
    "CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the history of a letter is append-only'; END $$",
    "CREATE TRIGGER history_no_update BEFORE UPDATE ON history FOR EACH ROW EXECUTE FUNCTION history_append_only()",
    "CREATE TRIGGER history_no_delete BEFORE DELETE ON history FOR EACH ROW EXECUTE FUNCTION history_append_only()",
)


def postgres_statements(script: str) -> list[str]:
    """``script`` for PostgreSQL: its tables and indexes rewritten, its SQLite triggers replaced."""
    kept = [s for s in statements(script) if not s.upper().startswith("CREATE TRIGGER")]
    return [postgres_ddl(s) for s in kept] + list(POSTGRES_EXTRAS)
