"""The SQLite layout of a message log (live or sealed archive) and the reads every tool shares.

Tables: ``meta`` (key/value: format, log id, participant, base sequence and hash, seal), ``records``
(one row per record: the hashed fields, the stored bytes, the chain hash), ``checkpoints`` (signed chain
heads), ``archives`` (the sealed archive files split off a live log) and ``alembic_version`` (the schema
revision, see ``bus.audit.migrate``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bus.audit.checkpoint import Checkpoint
from bus.audit.connection import DATABASE_ERRORS, LogConnection
from bus.audit.errors import AuditError
from bus.audit.record import HASHED_FIELDS, Record
from bus.sql import postgres_ddl

LOG_FORMAT = "govbus-audit-log/1"
LOG_FILENAME = "messages.sqlite"
RECORD_COLUMNS: tuple[str, ...] = (*HASHED_FIELDS, "raw", "hash")
METADATA_COLUMNS: tuple[str, ...] = (*HASHED_FIELDS, "NULL", "hash")
CONVERSATION = "coalesce(correlation_id, message_id)"
"""The request a record belongs to: its correlation id, or its own id (one index serves ``show``)."""
_COLUMN_TYPES = {"seq": "INTEGER PRIMARY KEY", "size": "INTEGER NOT NULL", "stored_size": "INTEGER NOT NULL"}

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records ("
    + ", ".join(f"{name} {_COLUMN_TYPES.get(name, 'TEXT')}" for name in HASHED_FIELDS)
    + ", raw BLOB, hash TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS records_conversation ON records ({CONVERSATION})",
    "CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER NOT NULL, head TEXT NOT NULL, time TEXT NOT NULL, "
    "participant TEXT NOT NULL, log_id TEXT NOT NULL, algorithm TEXT NOT NULL, signature BLOB NOT NULL, "
    "certificate BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS checkpoints_seq ON checkpoints (seq)",
    "CREATE TABLE IF NOT EXISTS archives (file TEXT NOT NULL, first_seq INTEGER NOT NULL, "
    "last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL, sha256 TEXT NOT NULL, archived_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_recorded_at ON records (recorded_at)",
    "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
)
SCHEMA_VERSION = "0002"
"""The Alembic revision ``SCHEMA`` is at (``bus.audit.migrate``): a new log is stamped with it."""
CHECKPOINT_COLUMNS = "participant, log_id, seq, head, time, algorithm, signature, certificate"
# Statements built once from the constant column lists above.
INSERT_RECORD = (
    f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"  # noqa: S608
)
INSERT_CHECKPOINT = f"INSERT INTO checkpoints ({CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
SELECT_RECORDS = f"SELECT {', '.join(RECORD_COLUMNS)} FROM records"  # noqa: S608
SELECT_METADATA = f"SELECT {', '.join(METADATA_COLUMNS)} FROM records"  # noqa: S608
SELECT_CHECKPOINTS = f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints"  # noqa: S608


@dataclass(frozen=True, slots=True)
class LogMeta:
    """What a log file says about itself. ``end_*`` are set only on a sealed archive."""

    log_id: str
    participant: str
    created_at: str
    base_seq: int
    base_hash: str
    base_time: str | None
    sealed: bool
    end_seq: int | None
    end_hash: str | None


@dataclass(frozen=True, slots=True)
class ArchiveLink:
    """A sealed archive file a live log was split from, as the live log remembers it."""

    file: str
    first_seq: int
    last_seq: int
    last_hash: str
    sha256: str
    archived_at: str


def connect(path: Path, *, readonly: bool = False, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit); WAL for writers."""
    if readonly:
        if not path.is_file():
            raise AuditError(f"{path}: no such log file")
        conn = sqlite3.connect(
            path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
    except sqlite3.DatabaseError as error:
        conn.close()
        raise AuditError(f"{path}: not a readable SQLite database ({error})") from None
    return conn


def create(conn: LogConnection, meta: dict[str, str]) -> None:
    """Create the tables and write ``meta`` (inside the caller's transaction; SQLite or PostgreSQL)."""
    postgres = getattr(conn, "dialect", "sqlite") == "postgresql"
    for statement in SCHEMA:
        conn.execute(postgres_ddl(statement) if postgres else statement)
    conn.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (SCHEMA_VERSION,))
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))


def has_meta(conn: LogConnection) -> bool:
    has_table = getattr(conn, "has_table", None)
    if has_table is not None:
        return bool(has_table("meta"))
    row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    return bool(row[0])


def read_meta(conn: LogConnection, path: Path | str) -> LogMeta:
    """The log's meta; ``AuditError`` when the file is not a govbus message log."""
    try:
        if not has_meta(conn):
            raise AuditError(f"{path}: not a govbus message log (no meta table)")
        values = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except DATABASE_ERRORS as error:
        kind = "SQLite" if isinstance(error, sqlite3.Error) else "PostgreSQL"
        raise AuditError(f"{path}: not a readable {kind} database ({error})") from None
    if values.get("format") != LOG_FORMAT:
        raise AuditError(f"{path}: format {values.get('format')!r} is not {LOG_FORMAT}")
    try:
        return LogMeta(
            log_id=values["log_id"],
            participant=values["participant"],
            created_at=values["created_at"],
            base_seq=int(values["base_seq"]),
            base_hash=values["base_hash"],
            base_time=values.get("base_time") or None,
            sealed=values.get("sealed") == "1",
            end_seq=int(values["end_seq"]) if "end_seq" in values else None,
            end_hash=values.get("end_hash"),
        )
    except (KeyError, ValueError) as error:
        raise AuditError(f"{path}: damaged meta table ({error!r})") from None


def set_meta(conn: sqlite3.Connection, **values: str) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", sorted(values.items()))


def to_record(row: tuple[object, ...]) -> Record:
    return Record(*row)  # type: ignore[arg-type]


def records(
    conn: sqlite3.Connection, *, first: int | None = None, last: int | None = None, with_raw: bool = True
) -> Iterator[Record]:
    """Records in sequence order (``rowid`` breaks ties a damaged table might hold)."""
    clauses, params = [], []
    if first is not None:
        clauses.append("seq >= ?")
        params.append(first)
    if last is not None:
        clauses.append("seq <= ?")
        params.append(last)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    select = SELECT_RECORDS if with_raw else SELECT_METADATA
    cursor = conn.execute(select + where + " ORDER BY seq, rowid", params)
    while rows := cursor.fetchmany(512):
        for row in rows:
            yield to_record(row)


def record_at(conn: LogConnection, seq: int) -> Record | None:
    row = conn.execute(SELECT_RECORDS + " WHERE seq = ?", (seq,)).fetchone()
    return to_record(row) if row is not None else None


def last_record(conn: LogConnection) -> Record | None:
    row = conn.execute(SELECT_RECORDS + " ORDER BY seq DESC LIMIT 1").fetchone()
    return to_record(row) if row is not None else None


def to_checkpoint(row: tuple[object, ...]) -> Checkpoint:
    participant, log_id, seq, head, time, algorithm, signature, certificate = row
    return Checkpoint(
        participant=participant,  # type: ignore[arg-type]
        log_id=log_id,  # type: ignore[arg-type]
        seq=seq,  # type: ignore[arg-type]
        head=head,  # type: ignore[arg-type]
        time=time,  # type: ignore[arg-type]
        algorithm=algorithm,  # type: ignore[arg-type]
        signature=bytes(cast("bytes", signature)),
        certificate_der=bytes(cast("bytes", certificate)),
    )


def checkpoint_row(checkpoint: Checkpoint) -> tuple[object, ...]:
    return (
        checkpoint.participant,
        checkpoint.log_id,
        checkpoint.seq,
        checkpoint.head,
        checkpoint.time,
        checkpoint.algorithm,
        checkpoint.signature,
        checkpoint.certificate_der,
    )


def checkpoints(conn: LogConnection) -> list[Checkpoint]:
    """Every stored checkpoint, by sequence then time."""
    rows = conn.execute(SELECT_CHECKPOINTS + " ORDER BY seq, time, rowid").fetchall()
    return [to_checkpoint(row) for row in rows]


def latest_checkpoint(conn: LogConnection) -> Checkpoint | None:
    row = conn.execute(SELECT_CHECKPOINTS + " ORDER BY seq DESC, time DESC LIMIT 1").fetchone()
    return to_checkpoint(row) if row is not None else None


def archive_links(conn: sqlite3.Connection) -> list[ArchiveLink]:
    rows = conn.execute(
        "SELECT file, first_seq, last_seq, last_hash, sha256, archived_at FROM archives ORDER BY first_seq"
    ).fetchall()
    return [ArchiveLink(*row) for row in rows]
